using GptSharp.Models;
using GptSharp.Training;
using GptSharp.Checkpoints;
using GptSharp.Training.Schedules;
using GptSharp.Data.Shards;

namespace GptSharp.Tests.Training;

/// <summary>
/// Best-checkpoint bookkeeping: rotation keeps the best, load_best_model_at_end restores it, early stopping stops. A
/// schedule that jumps to a huge rate after step 5, then freezes the model from step 10, makes step 5 the best by val loss.
/// </summary>
[Collection(nameof(GlobalTorchRng))]
public class BestModelTests(TinyCorpus corpus) : IClassFixture<TinyCorpus>
{
    /// <summary>A good rate for 5 steps, then one that wrecks the model, then none (later evaluations equal step 10's).</summary>
    sealed record SabotageSchedule : ILearningRateSchedule
    {
        public double LearningRate(int step) => step < 5 ? 3e-3 : step < 10 ? 0.3 : 0.0;
    }

    async Task<TrainingResult> Train(PretrainingOptions o, IProgress<TrainingProgress>? progress = null)
    {
        var plan = Pretraining.Check(o);
        using var train = TokenDataset.Open(o.DataDir, "train");
        using var val = TokenDataset.Open(o.DataDir, "val");
        using var model = Gpt.Create(plan.Model, o.Seed, plan.Device);
        var trainer = new Trainer(model, o,
            new BatchSampler(train, o.PerDeviceTrainBatchSize, o.BlockSize, o.Seed),
            new BatchSampler(val, o.PerDeviceTrainBatchSize, o.BlockSize, o.Seed + 1), new SabotageSchedule());
        return await trainer.TrainAsync(progress);
    }

    static double[] ValLosses(string outputDir) =>
        MetricsLog.Read(Path.Combine(outputDir, MetricsLog.FileName)).Where(m => m["val_loss"] is not null).Select(m => m["val_loss"]!.GetValue<double>()).ToArray();

    static float[] Weights(string modelDir)
    {
        using var model = HfCheckpoint.Load(modelDir);
        return model.parameters().SelectMany(p => p.data<float>().ToArray()).ToArray();
    }

    [Fact]
    public async Task RotationKeepsTheBestAndFinalGetsItsWeights()
    {
        var o = corpus.Options("best") with { EvalSteps = 5, SaveSteps = 5, SaveTotalLimit = 1, LoadBestModelAtEnd = true };
        var result = await Train(o);

        var val = ValLosses(o.OutputDir);
        Assert.Equal(4, val.Length);
        Assert.True(val[1..].All(v => v > val[0]), $"setup: step 5 should be the best, got {string.Join(", ", val)}");
        Assert.Equal([5, 20], CheckpointStore.List(o.OutputDir).Select(c => c.Step)); // newest 1 + the best
        Assert.Equal(Path.Combine(o.OutputDir, "checkpoint-5"), result.BestCheckpoint);
        Assert.Equal(val[0], result.BestValLoss);
        var best = Weights(Path.Combine(o.OutputDir, "checkpoint-5"));
        Assert.Equal(best, Weights(result.FinalDir!));
        Assert.NotEqual(best, Weights(Path.Combine(o.OutputDir, "checkpoint-20")));
        Assert.Equal(val[0], TrainerState.Read(Path.Combine(o.OutputDir, "checkpoint-20", TrainerState.FileName)).BestCheckpointValLoss);

        // Without load_best_model_at_end, final/ is the last step's model.
        var last = await Train(o with { OutputDir = corpus.Dir["last"], LoadBestModelAtEnd = false });
        Assert.Equal(Weights(Path.Combine(last.OutputDir, "checkpoint-20")), Weights(last.FinalDir!));
    }

    [Fact]
    public async Task EarlyStoppingStopsAfterPatienceEvaluations()
    {
        var o = corpus.Options("early") with { EvalSteps = 5, EarlyStoppingPatience = 2, MaxSteps = 40 };
        var progress = new ProgressRecorder();
        var result = await Train(o, progress);

        Assert.True(result.StoppedEarly);
        Assert.False(result.Cancelled);
        Assert.Equal(15, result.Step); // best at 5; no improvement at 10 and 15
        Assert.Equal(3, ValLosses(o.OutputDir).Length);
        Assert.True(File.Exists(Path.Combine(result.FinalDir!, "model.safetensors")));
        Assert.Contains(progress.All, p => p.Message?.Contains("early stopping at step 15") == true);
    }

    [Fact]
    public async Task TheBestNeedsValidationData()
    {
        var o = corpus.Options("noval") with { EvalSteps = 5, EarlyStoppingPatience = 2 };
        var plan = Pretraining.Check(o);
        using var train = TokenDataset.Open(o.DataDir, "train");
        using var model = Gpt.Create(plan.Model, o.Seed, plan.Device);
        var e = Assert.Throws<GptSharpException>(() => new Trainer(model, o, new BatchSampler(train, 4, 32, 1)));
        Assert.Contains("early_stopping_patience needs evaluation", e.Message);
        // num_train_epochs needs a source that knows its size.
        e = Assert.Throws<GptSharpException>(() => new Trainer(model, new TrainingArguments { OutputDir = o.OutputDir, NumTrainEpochs = 1 }, new BatchSampler(train, 4, 32, 1)));
        Assert.Contains("give max_steps instead", e.Message);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task EpochsSetTheRunLength()
    {
        var o = new PretrainingOptions
        {
            DataDir = corpus.DataDir, OutputDir = corpus.Dir["epochs"], NumTrainEpochs = 0.1, GradientAccumulationSteps = 2,
            PerDeviceTrainBatchSize = 4, BlockSize = 32, NLayer = 1, NHead = 2, NEmbd = 32, EvalSteps = 0, EvalIters = 1, SaveSteps = 0, Seed = 3,
        };
        var plan = Pretraining.Check(o);
        long batches = (plan.Data.Train.Tokens + 127) / 128;
        int expected = (int)Math.Ceiling(0.1 * batches / 2);
        Assert.Equal(expected, plan.MaxSteps);
        var result = await Pretraining.RunAsync(plan);
        Assert.Equal(expected, result.Step);
        Assert.Equal(expected, result.MaxSteps);
    }
}
