using GptSharp.Training.Advisors;

namespace GptSharp.Tests.Training.Advisors;

/// <summary>The batch-size search on a fake memory model, the recommendation rule and memory sizes: no torch involved.</summary>
public class BatchSizeSearchTests
{
    /// <summary>
    /// A fake memory model: a batch of b uses fixed + b × perSample bytes and fits a budget that holds exactly
    /// <paramref name="largest"/> samples. Every call is recorded, so the test counts probes.
    /// </summary>
    static (Func<int, BatchSizeProbe> Probe, List<int> Calls) FakeMemory(int largest)
    {
        const long fixedBytes = 1_000_000, perSample = 3_000_000;
        long budget = fixedBytes + largest * perSample;
        var calls = new List<int>();
        return (b =>
        {
            calls.Add(b);
            long peak = fixedBytes + b * perSample;
            return new BatchSizeProbe(b, peak <= budget, peak, 1000.0 * b, peak <= budget ? null : "over the budget");
        }, calls);
    }

    static int Log2Floor(int n) => 31 - int.LeadingZeroCount(n);

    [Theory]
    [InlineData(1, 1024)]
    [InlineData(2, 1024)]
    [InlineData(3, 1024)]
    [InlineData(5, 1024)]
    [InlineData(7, 1024)]
    [InlineData(8, 1024)]
    [InlineData(64, 1024)]
    [InlineData(100, 1024)]
    [InlineData(511, 1024)]
    [InlineData(700, 1024)]
    [InlineData(1023, 1024)]
    [InlineData(1024, 1024)]
    [InlineData(5000, 1024)] // everything fits: the answer is --max-batch
    [InlineData(37, 100)]
    [InlineData(99, 100)]
    [InlineData(100, 100)]
    [InlineData(1000, 100)]
    [InlineData(1, 1)]
    [InlineData(6, 6)]
    public void FindsExactlyTheLargestFittingBatchInLogarithmicallyManyProbes(int largest, int maxBatch)
    {
        var (probe, calls) = FakeMemory(largest);
        var result = BatchSizeSearch.Run(probe, maxBatch);

        int expected = Math.Min(largest, maxBatch);
        Assert.Equal(expected, result.LargestFit);
        Assert.Equal(calls, result.Probes.Select(p => p.BatchSize));
        Assert.Equal(calls.Count, calls.Distinct().Count()); // no batch probed twice
        Assert.All(calls, b => Assert.InRange(b, 1, maxBatch));
        Assert.Contains(expected, calls); // the answer was measured, not inferred
        if (expected < maxBatch) Assert.Contains(expected + 1, calls); // and so was the batch just above it
        Assert.All(result.Probes, p => Assert.Equal(p.BatchSize <= largest, p.Fits));

        // Doubling: 1, 2, …, 2^k ≤ t, then one that fails (or maxBatch); bisection: at most k more.
        int k = Log2Floor(expected);
        int bound = expected == maxBatch ? (int)Math.Ceiling(Math.Log2(maxBatch)) + 1 : 2 * k + 2;
        Assert.True(calls.Count <= bound, $"{calls.Count} probes ({string.Join(", ", calls)}) > {bound}");
        Assert.True(calls.Count <= 2 * Math.Ceiling(Math.Log2(maxBatch)) + 2);
    }

    [Fact]
    public void ThePowersOfTwoUpToTheAnswerCostOneProbeEachPlusOneFailure()
    {
        var (probe, calls) = FakeMemory(64);
        Assert.Equal(64, BatchSizeSearch.Run(probe, 1024).LargestFit);
        Assert.Equal([1, 2, 4, 8, 16, 32, 64, 128, 96, 80, 72, 68, 66, 65], calls);
    }

    [Fact]
    public void WhenNotEvenOneFitsTheSearchStopsAfterOneProbe()
    {
        var calls = new List<int>();
        var result = BatchSizeSearch.Run(b => { calls.Add(b); return new BatchSizeProbe(b, false, 10, null, "over"); }, 1024);
        Assert.Equal(0, result.LargestFit);
        Assert.Equal([1], calls);
    }

    [Theory]
    // job batch, accumulation, largest fit → per-device batch, accumulation (same effective batch)
    [InlineData(8, 4, 64, 32, 1)]      // effective 32 fits whole
    [InlineData(8, 4, 20, 16, 2)]      // the largest divisor of 32 that fits
    [InlineData(8, 1, 5, 4, 2)]
    [InlineData(12, 1, 10, 6, 2)]      // 12: 10 … 7 do not divide it
    [InlineData(7, 3, 6, 3, 7)]        // 21 = 3 × 7
    [InlineData(13, 1, 12, 1, 13)]     // a prime: only 1 divides it
    [InlineData(4, 2, 1, 1, 8)]
    [InlineData(16, 1, 16, 16, 1)]
    public void TheRecommendationKeepsTheEffectiveBatch(int perDevice, int accumulation, int largestFit, int batch, int steps)
    {
        var rec = BatchSizeRecommendation.For(perDevice, accumulation, largestFit);
        Assert.Equal((batch, steps), (rec.PerDeviceTrainBatchSize, rec.GradientAccumulationSteps));
        Assert.Equal(perDevice * accumulation, rec.EffectiveBatch);
        Assert.Equal(rec.EffectiveBatch, rec.PerDeviceTrainBatchSize * rec.GradientAccumulationSteps);
        Assert.True(rec.PerDeviceTrainBatchSize <= largestFit);
    }

    [Theory]
    [InlineData("4GiB", 4L << 30)]
    [InlineData("4G", 4L << 30)]
    [InlineData("512MiB", 512L << 20)]
    [InlineData("1.5 GiB", 3L << 29)]
    [InlineData("2GB", 2_000_000_000L)]
    [InlineData("100kB", 100_000L)]
    [InlineData("123456", 123456L)]
    [InlineData("1e9", 1_000_000_000L)]
    public void MemorySizesParse(string text, long bytes) => Assert.Equal(bytes, MemorySize.Parse(text, "--memory-budget"));

    [Theory]
    [InlineData("four gigs")]
    [InlineData("4XB")]
    [InlineData("")]
    [InlineData("-1GiB")]
    [InlineData("0")]
    public void UnreadableMemorySizesNameTheOption(string text) =>
        Assert.Contains("--memory-budget", Assert.Throws<GptSharpException>(() => MemorySize.Parse(text, "--memory-budget")).Message);
}
