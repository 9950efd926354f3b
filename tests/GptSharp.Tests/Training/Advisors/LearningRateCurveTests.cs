using GptSharp.Training.Advisors;

namespace GptSharp.Tests.Training.Advisors;

/// <summary>The range test's ramp, smoothing, stop rule and suggestions as pure functions, on made-up loss curves.</summary>
public class LearningRateCurveTests
{
    static readonly LearningRateRangeOptions Range = new() { Start = 1e-7, End = 10, Steps = 100 };

    /// <summary>
    /// A known curve against log10(lr): flat at 5 up to 1e-5, falling to 1 at 1e-2, then climbing steeply: the good range
    /// is 1e-5..1e-2. Fed to the smoother and stop rule, as the finder would, it stops where the smoothed loss passes 4× best.
    /// </summary>
    static double KnownLoss(double lr)
    {
        double x = Math.Log10(lr);
        return x < -5 ? 5 : x < -2 ? 5 - 4 * (x + 5) / 3 : 1 + 20 * Math.Pow(x + 2, 2) * Math.Exp(x + 2);
    }

    static List<LearningRatePoint> Run(Func<int, double, double> loss, LearningRateRangeOptions? range = null)
    {
        range ??= Range;
        var smoother = new LossSmoother(range.Beta, range.DivergenceFactor, range.Grace);
        var points = new List<LearningRatePoint>();
        for (int i = 0; i < range.Steps; i++)
        {
            double lr = range.LearningRateAt(i), l = loss(i, lr);
            var stop = smoother.Add(l);
            points.Add(new LearningRatePoint(i + 1, lr, l, smoother.Smoothed));
            if (stop is not null) break;
        }
        return points;
    }

    static void AssertInGoodRange(IReadOnlyList<LearningRateSuggestion> suggestions)
    {
        Assert.Equal([LearningRateSuggestions.Valley, LearningRateSuggestions.Steepest, LearningRateSuggestions.MinimumOverTen], suggestions.Select(s => s.Method));
        foreach (var s in suggestions) Assert.InRange(s.LearningRate, 1e-5, 1e-2);
    }

    [Fact]
    public void TheRampIsExponentialFromStartToEnd()
    {
        Assert.Equal(1e-7, Range.LearningRateAt(0), 1e-20);
        Assert.Equal(10, Range.LearningRateAt(99), 1e-9);
        double ratio = Range.LearningRateAt(1) / Range.LearningRateAt(0);
        for (int i = 1; i < 99; i++) Assert.Equal(ratio, Range.LearningRateAt(i + 1) / Range.LearningRateAt(i), 1e-9);
    }

    [Fact]
    public void SmoothingIsABiasCorrectedExponentialAverage()
    {
        // A constant stays itself from the first value on (no pull towards 0): that is the bias correction.
        Assert.All(LossSmoother.Smooth(Enumerable.Repeat(3.0, 20)), v => Assert.Equal(3.0, v, 1e-12));
        var s = LossSmoother.Smooth([2.0, 4.0], 0.9);
        Assert.Equal(2.0, s[0], 1e-12);
        Assert.Equal((0.9 * 0.1 * 2 + 0.1 * 4) / (1 - 0.81), s[1], 1e-12);
    }

    [Fact]
    public void StopsWhenTheSmoothedLossPassesFourTimesItsBest()
    {
        var smoother = new LossSmoother(0.98, 4);
        LearningRateRangeStop? stop = null;
        int steps = 0;
        for (double loss = 1; stop is null && steps < 1000; loss *= 1.5, steps++) stop = smoother.Add(loss);
        Assert.Equal(LearningRateRangeStop.Diverged, stop);
        Assert.True(smoother.Smoothed > 4 * smoother.Best);
        // One step earlier it had not: the rule fires at the first point past 4×.
        var again = LossSmoother.Smooth(Enumerable.Range(0, steps - 1).Select(i => Math.Pow(1.5, i)));
        Assert.True(again[^1] <= 4 * again.Min());
    }

    [Fact]
    public void StopsAtTheFirstNaNOrInfinity()
    {
        foreach (var bad in new[] { double.NaN, double.PositiveInfinity })
        {
            var points = Run((i, lr) => i == 40 ? bad : 5);
            Assert.Equal(41, points.Count);
            var smoother = new LossSmoother();
            Assert.Null(smoother.Add(5));
            Assert.Equal(LearningRateRangeStop.NotFinite, smoother.Add(bad));
        }
    }

    [Fact]
    public void SuggestionsOnAKnownCurveFallInItsGoodRange()
    {
        var points = Run((_, lr) => KnownLoss(lr));
        Assert.True(points.Count < Range.Steps, "the climb must stop the test");
        var suggestions = LearningRateSuggestions.Suggest(points, Range.Steps);
        AssertInGoodRange(suggestions);
        // steepest is where the curve falls fastest: inside the straight descent, before the minimum.
        var steepest = suggestions.Single(s => s.Method == LearningRateSuggestions.Steepest);
        Assert.True(steepest.LearningRate < suggestions.Single(s => s.Method == LearningRateSuggestions.MinimumOverTen).LearningRate * 10);
    }

    [Fact]
    public void AnEarlySpikeDoesNotFoolTheSuggestions()
    {
        var clean = LearningRateSuggestions.Suggest(Run((_, lr) => KnownLoss(lr)), Range.Steps);
        // One bad batch at step 3 (and one at 15): smoothed naively, it would decay for ~50 steps, a long fake descent.
        var spikedPoints = Run((i, lr) => i is 2 or 14 ? 60 : KnownLoss(lr));
        // Nor does it stop the test: the 4× rule waits out the first tenth, where one loss weighs a third of the average.
        Assert.InRange(spikedPoints.Count, Run((_, lr) => KnownLoss(lr)).Count - 2, Range.Steps);
        var spiked = LearningRateSuggestions.Suggest(spikedPoints, Range.Steps);
        AssertInGoodRange(spiked);
        foreach (var (a, b) in clean.Zip(spiked)) Assert.Equal(a.LearningRate, b.LearningRate, a.LearningRate * 0.5);
    }

    [Fact]
    public void ANaNAtTheEndCutsTheCurveAndNothingAbsurdIsSuggested()
    {
        // The loss climbs a little and then turns NaN before the 4× rule fires.
        var points = Run((i, lr) => Math.Log10(lr) > -1.5 ? double.NaN : KnownLoss(lr));
        Assert.True(double.IsNaN(points[^1].Loss));
        var suggestions = LearningRateSuggestions.Suggest(points, Range.Steps);
        AssertInGoodRange(suggestions);
        Assert.All(suggestions, s => Assert.True(double.IsFinite(s.LearningRate) && s.LearningRate < points[^1].LearningRate));
    }

    [Fact]
    public void NoisyLossesStillGiveSuggestionsInTheGoodRange()
    {
        var random = new Random(11);
        for (int trial = 0; trial < 5; trial++)
        {
            var points = Run((_, lr) => KnownLoss(lr) * (1 + 0.3 * (random.NextDouble() - 0.5)));
            AssertInGoodRange(LearningRateSuggestions.Suggest(points, Range.Steps));
        }
    }

    [Fact]
    public void ValleyIsFastaisRule()
    {
        // Worked by fastai's own code (fastai/callback/schedule.py, valley): lds = [1,1,2,1,3,4,5,6,7,2,2], max_end 8,
        // max_start = 8 - lds[8] = 1, sections = 7/3, idx = 1 + 2 + 1 = 4.
        double[] losses = [5, 9, 8, 10, 7, 6, 5, 4, 3, 8, 9];
        Assert.Equal(4, LearningRateSuggestions.ValleyIndex(losses));
        Assert.Equal(8, LearningRateSuggestions.MinimumIndex(losses));
        double[] lrs = [.. Enumerable.Range(0, losses.Length).Select(i => Math.Pow(10, i))];
        Assert.Equal(3, LearningRateSuggestions.SteepestIndex(lrs, losses)); // 10 → 7, the largest fall
    }

    [Fact]
    public void TooFewFinitePointsGiveNoSuggestion()
    {
        var points = Run((i, lr) => i == 2 ? double.NaN : 5);
        Assert.Empty(LearningRateSuggestions.Suggest(points, Range.Steps));
    }
}
