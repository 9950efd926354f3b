using GptSharp.Training;
using GptSharp.Training.Advisors;
using static TorchSharp.torch;

namespace GptSharp.Tests.Training.Advisors;

/// <summary>The range test on a tiny model and corpus: the loss falls then diverges, and the model leaves as it came.</summary>
[Collection(nameof(GlobalTorchRng))]
public class LearningRateFinderTests(TinyCorpus corpus) : IClassFixture<TinyCorpus>
{
    /// <summary>
    /// TinyCorpus trains well at 3e-3 (its options); a ramp from 1e-5 to 10 must fall, then blow up before 10. 40 steps
    /// instead of 100 keep it fast; β 0.9 instead of 0.98 keeps the average as responsive per decade of learning rate.
    /// </summary>
    static readonly LearningRateRangeOptions Range = new() { Start = 1e-5, End = 10, Steps = 40, Beta = 0.9 };

    static Dictionary<string, byte[]> Bytes(GptSharp.Models.Gpt model) =>
        model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.cpu().bytes.ToArray());

    [Fact]
    public void LossFallsThenDivergesAndTheModelIsRestoredByteForByte()
    {
        var plan = Pretraining.Check(corpus.Options("lr") with { WarmupSteps = 0 });
        using var train = GptSharp.Data.Shards.TokenDataset.Open(plan.Options.DataDir, "train");
        using var model = Pretraining.CreateModel(plan);
        var before = Bytes(model);
        bool training = model.training;

        var result = LearningRateFinder.Run(model, plan.Options, Pretraining.TrainBatches(plan, train), Range);

        var after = Bytes(model);
        Assert.Equal(before.Keys, after.Keys);
        foreach (var (name, bytes) in before) Assert.True(bytes.AsSpan().SequenceEqual(after[name]), $"{name} changed");
        Assert.Equal(training, model.training);
        Assert.All(model.parameters(), p => Assert.True(p.grad is null || p.grad.abs().max().item<float>() == 0));
        Assert.False(Directory.Exists(plan.Options.OutputDir), "the range test writes nothing");

        string curve = string.Join(" ", result.Points.Select(p => $"{p.LearningRate:0.#e+0}:{p.Loss:F2}/{p.SmoothedLoss:F2}"));
        Assert.True(result.Stop != LearningRateRangeStop.Completed, curve);
        Assert.True(result.Points.Count < Range.Steps, "it diverges before 10");
        var smoothed = result.Points.Select(p => p.SmoothedLoss).Where(double.IsFinite).ToList();
        double min = smoothed.Min();
        Assert.True(min < smoothed[0] * 0.9, $"the loss must fall first: {string.Join(", ", smoothed.Select(v => v.ToString("F2")))}");
        Assert.True(smoothed[^1] > min * 1.5 || result.Stop == LearningRateRangeStop.NotFinite, "then diverge");
        Assert.Equal(3, result.Suggestions.Count);
        // The good range of this model: 1e-4..3e-1 (3e-3 trains it; 10 blows it up).
        Assert.InRange(result.Recommended!.LearningRate, 1e-4, 3e-1);
        Assert.All(result.Suggestions, s => Assert.InRange(s.LearningRate, Range.Start / 10, Range.End));
    }

    [Fact]
    public void APretrainingPlanRunsOnItsOwnFreshModel()
    {
        var plan = Pretraining.Check(corpus.Options("lr-plan") with { WarmupSteps = 0 });
        var result = LearningRateFinder.Run(plan, Range with { Steps = 12 });
        Assert.InRange(result.Points.Count, 2, 12);
    }

    [Fact]
    public void ADatasetSmallerThanOneBatchIsRefused()
    {
        var plan = Pretraining.Check(corpus.Options("lr-small") with { WarmupSteps = 0, PerDeviceTrainBatchSize = 10_000 });
        var e = Assert.Throws<GptSharpException>(() => LearningRateFinder.Run(plan, Range));
        Assert.Contains("per_device_train_batch_size", e.Message);
    }
}
