using GptSharp.Training;
using GptSharp.Training.Advisors;

namespace GptSharp.Tests.Training.Advisors;

/// <summary>The batch-size finder on a tiny model and corpus: real probes, measured memory, and the model as it came.</summary>
[Collection(nameof(GlobalTorchRng))]
public class BatchSizeFinderTests(TinyCorpus corpus) : IClassFixture<TinyCorpus>
{
    static Dictionary<string, byte[]> Bytes(GptSharp.Models.Gpt model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.cpu().bytes.ToArray());

    [Fact]
    public void AGenerousBudgetFitsUpToMaxBatchAndTheModelIsRestoredByteForByte()
    {
        var plan = Pretraining.Check(corpus.Options("bs") with { GradientAccumulationSteps = 4 });
        using var train = GptSharp.Data.Shards.TokenDataset.Open(plan.Options.DataDir, "train");
        using var model = Pretraining.CreateModel(plan);
        var before = Bytes(model);
        bool training = model.training;

        var result = BatchSizeFinder.Run(model, plan.Options, plan.Options.BlockSize,
            b => Pretraining.TrainBatches(plan with { Options = plan.Options with { PerDeviceTrainBatchSize = b } }, train),
            new BatchSizeOptions { MemoryBudget = 8L << 30, MaxBatch = 8, Steps = 2 });

        var after = Bytes(model);
        foreach (var (name, bytes) in before) Assert.True(bytes.AsSpan().SequenceEqual(after[name]), $"{name} changed");
        Assert.Equal(training, model.training);
        Assert.All(model.parameters(), p => Assert.True(p.grad is null || p.grad.abs().max().item<float>() == 0));
        Assert.False(Directory.Exists(plan.Options.OutputDir), "the finder writes nothing");

        Assert.Equal([1, 2, 4, 8], result.Probes.Select(p => p.BatchSize));
        Assert.All(result.Probes, p => Assert.True(p.Fits && p.PeakBytes >= 0 && p.TokensPerSecond > 0, p.ToString()));
        Assert.Equal(8, result.LargestFit);
        Assert.Equal("process RSS", result.Meter);
        // The job: 4 × 4 = 16 sequences per update; 8 fits and divides 16.
        Assert.Equal(new BatchSizeRecommendation(8, 2, 16), result.Recommendation);
    }

    sealed class FakeMeter(Func<long> read) : IMemoryMeter
    {
        public string Name => "fake";
        public long CurrentBytes() => read();
    }

    [Fact]
    public void ABudgetBelowOneSampleIsRefusedNamingTheOption()
    {
        var plan = Pretraining.Check(corpus.Options("bs-tight"));
        using var train = GptSharp.Data.Shards.TokenDataset.Open(plan.Options.DataDir, "train");
        using var model = Pretraining.CreateModel(plan);
        // A fake meter whose every reading grows by 1 MiB: any probe's peak is above a 1 KiB budget.
        long reads = 0;
        var meter = new FakeMeter(() => Interlocked.Increment(ref reads) << 20);
        var e = Assert.Throws<GptSharpException>(() => BatchSizeFinder.Run(model, plan.Options, plan.Options.BlockSize,
            b => Pretraining.TrainBatches(plan with { Options = plan.Options with { PerDeviceTrainBatchSize = b } }, train),
            new BatchSizeOptions { MemoryBudget = 1024, MaxBatch = 8, Steps = 1 }, meter));
        Assert.Contains("--memory-budget", e.Message);
        Assert.Contains("batch of 1", e.Message);
    }

    [Fact]
    public void APretrainingPlanRunsOnItsOwnFreshModel()
    {
        var plan = Pretraining.Check(corpus.Options("bs-plan"));
        var result = BatchSizeFinder.Run(plan, new BatchSizeOptions { MemoryBudget = 8L << 30, MaxBatch = 3, Steps = 1 });
        Assert.Equal([1, 2, 3], result.Probes.Select(p => p.BatchSize));
        Assert.Equal(new BatchSizeRecommendation(2, 2, 4), result.Recommendation); // 4 × 1: 3 does not divide 4
    }
}
