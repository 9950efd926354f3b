using GptSharp.Data.Dialogues;
using GptSharp.Training.Advisors;

namespace GptSharp.Tests.Training.Advisors;

/// <summary>The k-fold splits cross-validation deals, and its statistics on made-up numbers.</summary>
public class CrossValidationTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(5)]
    [InlineData(10)]
    public void EveryExampleIsValidatedInExactlyOneFold(int k)
    {
        const int count = 10;
        var validatedIn = new int[count];
        for (int fold = 0; fold < k; fold++)
        {
            var (train, val) = SftSplits.KFold(count, k, fold, seed: 42);
            Assert.Empty(train.Intersect(val));
            Assert.Equal(Enumerable.Range(0, count), train.Concat(val).Order());
            Assert.InRange(val.Length, count / k, (count + k - 1) / k);
            foreach (int i in val) validatedIn[i]++;
        }
        Assert.All(validatedIn, n => Assert.Equal(1, n));
    }

    [Fact]
    public void TheSeedDecidesTheFolds()
    {
        Assert.Equal(SftSplits.KFold(10, 5, 0, 7).Val, SftSplits.KFold(10, 5, 0, 7).Val);
        var folds = Enumerable.Range(0, 5).Select(f => string.Join(",", SftSplits.KFold(10, 5, f, 7).Val)).ToList();
        var other = Enumerable.Range(0, 5).Select(f => string.Join(",", SftSplits.KFold(10, 5, f, 8).Val)).ToList();
        Assert.NotEqual(folds, other);
    }

    [Fact]
    public void SummaryIsMeanSampleStdAndStandardError()
    {
        // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, squared deviations sum to 32, sample variance 32/7.
        var s = CrossValidationStatistics.Summarize([2, 4, 4, 4, 5, 5, 7, 9]);
        Assert.Equal(8, s.Count);
        Assert.Equal(5, s.Mean, 12);
        Assert.Equal(Math.Sqrt(32.0 / 7), s.StdDev, 12);
        Assert.Equal(Math.Sqrt(32.0 / 7) / Math.Sqrt(8), s.StdError, 12);
    }

    [Fact]
    public void PairedComparisonOnTheSameFolds()
    {
        // Differences 0.1, 0.2, 0.3: mean 0.2, sample std 0.1, standard error 0.1/√3, t = 2√3 ≈ 3.46.
        double[] a = [1.1, 1.2, 1.3], b = [1.0, 1.0, 1.0];
        var c = CrossValidationStatistics.Compare(a, b, lowerIsBetter: true);
        Assert.Equal([0.1, 0.2, 0.3], c.Differences.Select(d => Math.Round(d, 12)));
        Assert.Equal(0.2, c.MeanDifference, 12);
        Assert.Equal(0.1 / Math.Sqrt(3), c.StdError, 12);
        Assert.Equal(2 * Math.Sqrt(3), c.T, 9);
        Assert.Equal(2, c.DegreesOfFreedom);
        Assert.Equal(ComparisonVerdict.SecondBetter, c.Verdict); // a's loss is higher
        Assert.Equal(ComparisonVerdict.FirstBetter, CrossValidationStatistics.Compare(a, b, lowerIsBetter: false).Verdict); // a's score is higher
    }

    [Fact]
    public void NoisyDifferencesAreWithinNoise()
    {
        // Differences +0.3, -0.2, +0.1, -0.1: mean 0.025, t well below 2.
        var c = CrossValidationStatistics.Compare([1.3, 0.8, 1.1, 0.9], [1.0, 1.0, 1.0, 1.0], lowerIsBetter: true);
        Assert.True(Math.Abs(c.T) < 2);
        Assert.Equal(ComparisonVerdict.WithinNoise, c.Verdict);
        // The same difference on every fold is no noise at all.
        Assert.Equal(ComparisonVerdict.FirstBetter, CrossValidationStatistics.Compare([0.5, 0.6], [1.5, 1.6], lowerIsBetter: true).Verdict);
        Assert.Equal(ComparisonVerdict.WithinNoise, CrossValidationStatistics.Compare([0.5, 0.6], [0.5, 0.6], lowerIsBetter: true).Verdict);
    }

    [Fact]
    public void MismatchedFoldsAreRefused() =>
        Assert.Throws<GptSharpException>(() => CrossValidationStatistics.Compare([1, 2, 3], [1, 2], lowerIsBetter: true));

    [Theory]
    [InlineData(1, 10, "--folds must be at least 2")]
    [InlineData(11, 10, "--folds 11 is more than the 10 conversations")]
    public void BadFoldCountsAreRefused(int folds, int conversations, string message)
    {
        var e = Assert.Throws<GptSharpException>(() => new CrossValidationOptions { Folds = folds }.Validate(conversations, "d.jsonl"));
        Assert.Contains(message, e.Message);
    }
}
