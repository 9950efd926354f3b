using GptSharp.Models;
using GptSharp.Training;
using GptSharp.Training.Schedules;
using GptSharp.Data.Shards;

namespace GptSharp.Tests.Training;

/// <summary>The evaluation hook a tuner reports and prunes through: it sees every evaluation and can stop the run.</summary>
[Collection(nameof(GlobalTorchRng))]
public class TrainerCallbackTests(TinyCorpus corpus) : IClassFixture<TinyCorpus>
{
    /// <summary>Records what the Trainer hands its callbacks; stops at the evaluation of <see cref="StopAt"/>, if set.</summary>
    sealed class Recorder : TrainerCallback
    {
        public List<TrainingEvaluation> Evaluations { get; } = [];
        public List<int> Steps { get; } = [];
        public List<string> Saved { get; } = [];
        public int? StopAt { get; init; }
        public bool Began, Ended;

        public override void OnTrainBegin(TrainerControl control) => Began = true;
        public override void OnStepEnd(TrainerControl control, TrainingStep step) => Steps.Add(step.Step);
        public override void OnSave(TrainerControl control, string dir) => Saved.Add(Path.GetFileName(dir));
        public override void OnTrainEnd(TrainerControl control) => Ended = true;

        public override void OnEvaluate(TrainerControl control, TrainingEvaluation evaluation)
        {
            Assert.Equal(evaluation.Step, control.State.GlobalStep);
            Evaluations.Add(evaluation);
            if (evaluation.Step == StopAt) control.Stop($"pruned at step {evaluation.Step}");
        }
    }

    static double[] ValLosses(string outputDir) =>
        MetricsLog.Read(Path.Combine(outputDir, MetricsLog.FileName)).Where(m => m["val_loss"] is not null).Select(m => m["val_loss"]!.GetValue<double>()).ToArray();

    [Fact]
    public async Task TheHookSeesEveryEvaluation()
    {
        var o = corpus.Options("hook") with { EvalSteps = 5, MaxSteps = 12 };
        var hook = new Recorder();
        var result = await Pretraining.RunAsync(o, callbacks: [hook]);

        Assert.Equal([5, 10, 12], hook.Evaluations.Select(e => e.Step)); // every eval_steps and after the last
        Assert.Equal(ValLosses(o.OutputDir), hook.Evaluations.Select(e => e.ValLoss));
        Assert.All(hook.Evaluations, e => Assert.Equal(Math.Exp(e.ValLoss), e.Metrics["val_ppl"], 12));
        Assert.Equal(Enumerable.Range(1, 12), hook.Steps);
        Assert.True(hook.Began && hook.Ended);
        Assert.Equal(["final"], hook.Saved);
        Assert.False(result.StoppedEarly);
        Assert.Null(result.StopReason);
        Assert.Equal(12, result.Step);
    }

    [Fact]
    public async Task ACallbackStopsTheRunAtAnEvaluation()
    {
        var o = corpus.Options("stop") with { EvalSteps = 5, SaveSteps = 5, MaxSteps = 20 };
        var hook = new Recorder { StopAt = 10 };
        var progress = new ProgressRecorder();
        var result = await Pretraining.RunAsync(o, progress, callbacks: [hook]);

        Assert.Equal(10, result.Step);
        Assert.True(result.StoppedEarly);
        Assert.False(result.Cancelled);
        Assert.Equal("pruned at step 10", result.StopReason);
        Assert.Equal([5, 10], hook.Evaluations.Select(e => e.Step));
        Assert.Equal(10, hook.Steps[^1]); // no step after the stop
        Assert.Equal(["checkpoint-5", "checkpoint-10", "final"], hook.Saved); // the due checkpoint is still written, then final/
        Assert.True(File.Exists(Path.Combine(result.FinalDir!, "model.safetensors")));
        Assert.Contains(progress.All, p => p.Event == TrainingEvent.Message && p.Message == "pruned at step 10" && p.Step == 10);
        Assert.DoesNotContain(MetricsLog.Read(Path.Combine(o.OutputDir, MetricsLog.FileName)), m => m["step"]!.GetValue<int>() > 10);
    }

    /// <summary>A good rate for 5 steps, then one that wrecks the model, then none: step 5 stays the best val loss.</summary>
    sealed record SabotageSchedule : ILearningRateSchedule
    {
        public double LearningRate(int step) => step < 5 ? 3e-3 : step < 10 ? 0.3 : 0.0;
    }

    [Fact]
    public async Task EarlyStoppingAsACallbackStopsLikeTheOption()
    {
        // BestModelTests' early_stopping_patience=2 run, with the callback given instead: best at 5, no improvement at 10 and 15.
        var o = corpus.Options("early-callback") with { EvalSteps = 5, MaxSteps = 40 };
        var plan = Pretraining.Check(o);
        using var train = TokenDataset.Open(o.DataDir, "train");
        using var val = TokenDataset.Open(o.DataDir, "val");
        using var model = Gpt.Create(plan.Model, o.Seed, plan.Device);
        var hook = new Recorder();
        var trainer = new Trainer(model, o,
            new BatchSampler(train, o.PerDeviceTrainBatchSize, o.BlockSize, o.Seed),
            new BatchSampler(val, o.PerDeviceTrainBatchSize, o.BlockSize, o.Seed + 1), new SabotageSchedule())
        {
            Callbacks = [new EarlyStoppingCallback(2), hook],
        };
        var result = await trainer.TrainAsync();

        Assert.True(result.StoppedEarly);
        Assert.Equal(15, result.Step);
        Assert.Equal([5, 10, 15], hook.Evaluations.Select(e => e.Step));
        Assert.StartsWith("early stopping at step 15", result.StopReason);
        Assert.Throws<ArgumentOutOfRangeException>(() => new EarlyStoppingCallback(0));
    }
}
