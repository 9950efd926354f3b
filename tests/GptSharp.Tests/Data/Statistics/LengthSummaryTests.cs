using GptSharp.Data.Statistics;

namespace GptSharp.Tests.Data.Statistics;

public class LengthSummaryTests
{
    [Fact]
    public void PercentilesAreNearestRank()
    {
        // 1..20: rank ⌈p/100 · 20⌉.
        var s = LengthSummary.Of(Enumerable.Range(1, 20).Reverse());
        Assert.Equal(new LengthSummary(20, 1, 10, 18, 19, 20, 20, 10.5), s);
        // The textbook example: 15, 20, 35, 40, 50 → p30 = 20, p40 = 20, p50 = 35, p100 = 50; p0 is the minimum.
        int[] list = [15, 20, 35, 40, 50];
        Assert.Equal(20, LengthSummary.NearestRank(list, 30));
        Assert.Equal(20, LengthSummary.NearestRank(list, 40));
        Assert.Equal(35, LengthSummary.NearestRank(list, 50));
        Assert.Equal(50, LengthSummary.NearestRank(list, 100));
        Assert.Equal(15, LengthSummary.NearestRank(list, 0));
        // No floating-point overshoot: 95 % of 100 values is rank 95.
        Assert.Equal(95, LengthSummary.NearestRank([.. Enumerable.Range(1, 100)], 95));
    }

    [Fact]
    public void OneValueAndNone()
    {
        Assert.Equal(new LengthSummary(1, 7, 7, 7, 7, 7, 7, 7), LengthSummary.Of([7]));
        Assert.Contains("no documents", Assert.Throws<GptSharpException>(() => LengthSummary.Of([], "documents")).Message);
    }

    [Fact]
    public void HistogramBinsArePowersOfTwoWide()
    {
        var h = LengthHistogram.Of([0, 1, 1, 39]);
        Assert.Equal(1, h.BinWidth);
        Assert.Equal(40, h.Counts.Count);
        Assert.Equal([1, 2], h.Counts.Take(2));
        h = LengthHistogram.Of([5, 100, 159, 160]);
        Assert.Equal(8, h.BinWidth); // 4 would need 41 bins
        Assert.Equal(21, h.Counts.Count);
        Assert.Equal(1, h.Counts[0]);
        Assert.Equal(1, h.Counts[12]); // 100 in [96, 104)
        Assert.Equal(1, h.Counts[19]); // 159
        Assert.Equal(1, h.Counts[20]); // 160
    }

    [Fact]
    public void CandidatesAreCappedAtTheContext()
    {
        Assert.Equal([64, 128, 256, 512, 1024], BlockSizeCandidates.For(null));
        Assert.Equal([64, 128, 256, 300], BlockSizeCandidates.For(300));
        Assert.Equal([64, 128, 256], BlockSizeCandidates.For(256));
        Assert.Equal([32], BlockSizeCandidates.For(32));
    }

    static LengthSummary P95(int p95) => new(1, p95, p95, p95, p95, p95, p95, p95);

    [Fact]
    public void RecommendationRule()
    {
        // block_size + 1 ≥ p95, rounded up to a multiple of 64.
        Assert.Equal(128, BlockSizeRecommendation.For(P95(119)).Recommended);
        Assert.Equal(128, BlockSizeRecommendation.For(P95(129)).Recommended);
        Assert.Equal(192, BlockSizeRecommendation.For(P95(130)).Recommended);
        Assert.Equal(64, BlockSizeRecommendation.For(P95(3)).Recommended);
        // Task-driven: N rounded up to a multiple of 64; the larger of the two wins.
        var r = BlockSizeRecommendation.For(P95(119), maxPromptReply: 200);
        Assert.Equal((128, (int?)256, 256, false), (r.DataDriven, r.TaskDriven, r.Recommended, r.Capped));
        Assert.Equal(128, BlockSizeRecommendation.For(P95(119), maxPromptReply: 64).Recommended);
        Assert.Equal("\"block_size\": 128", BlockSizeRecommendation.For(P95(119), maxPromptReply: 64).ConfigLine);
        // The model's context caps it.
        r = BlockSizeRecommendation.For(P95(119), maxPromptReply: 1000, contextLength: 512);
        Assert.Equal((1024, 512, true), (r.TaskDriven!.Value, r.Recommended, r.Capped));
        Assert.Throws<GptSharpException>(() => BlockSizeRecommendation.For(P95(119), maxPromptReply: 0));
    }

    [Fact]
    public void TheDataDrivenSizeKeepsAtLeast95PercentWhole()
    {
        var random = new Random(5);
        for (int trial = 0; trial < 50; trial++)
        {
            int[] lengths = [.. Enumerable.Range(0, random.Next(1, 200)).Select(_ => random.Next(2, 700))];
            var stats = TextStatistics.Compute(lengths, [BlockSizeRecommendation.For(LengthSummary.Of(lengths)).DataDriven], "test");
            int b = stats.Recommendation.DataDriven;
            Assert.True(stats.Truncation[0].TruncatedFraction <= 0.05, $"{stats.Truncation[0].Truncated} of {lengths.Length} cut at {b}");
            Assert.Equal(0, b % 64);
            if (b > 64) // and 64 fewer would not do
                Assert.True(TextStatistics.Compute(lengths, [b - 64], "test").Truncation[0].TruncatedFraction > 0.05);
        }
    }
}
