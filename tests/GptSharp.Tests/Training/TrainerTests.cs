using GptSharp.Training;
using GptSharp.Checkpoints;

namespace GptSharp.Tests.Training;

[Collection(nameof(GlobalTorchRng))]
public class TrainerTests(TinyCorpus corpus) : IClassFixture<TinyCorpus>
{
    static double[] Losses(string outputDir) =>
        MetricsLog.Read(Path.Combine(outputDir, MetricsLog.FileName)).Where(m => m["loss"] is not null).Select(m => m["loss"]!.GetValue<double>()).ToArray();

    static double[] ValLosses(string outputDir) =>
        MetricsLog.Read(Path.Combine(outputDir, MetricsLog.FileName)).Where(m => m["val_loss"] is not null).Select(m => m["val_loss"]!.GetValue<double>()).ToArray();

    [Fact]
    public async Task TinyModelLearnsARepetitiveCorpus()
    {
        var o = corpus.Options("learn") with { MaxSteps = 30, EvalSteps = 0 };
        var progress = new ProgressRecorder();
        var result = await Pretraining.RunAsync(o, progress);

        var losses = Losses(o.OutputDir);
        Assert.Equal(30, losses.Length);
        Assert.InRange(losses[0], 5.0, 6.0); // ≈ ln 257 at init
        Assert.True(losses[^3..].Average() < 0.6 * losses[0], $"loss went {losses[0]:F3} → {losses[^1]:F3}");
        Assert.NotNull(result.LastValLoss);
        Assert.True(result.LastValLoss < 0.6 * losses[0]);
        Assert.False(result.Cancelled);
        Assert.True(File.Exists(Path.Combine(result.FinalDir!, "model.safetensors")));
        Assert.All(progress.Steps, p => Assert.True(p.TokensPerSecond > 0));
    }

    [Theory]
    [InlineData(0.0, 1)]
    [InlineData(0.1, 2)] // dropout draws from the saved RNG state; accumulation crosses nothing between steps
    public async Task StoppingAndResumingGivesBitIdenticalLosses(double dropout, int accumulation)
    {
        string tag = $"{dropout}-{accumulation}";
        var straight = corpus.Options($"straight-{tag}") with { Dropout = dropout, GradientAccumulationSteps = accumulation };
        await Pretraining.RunAsync(straight);

        var split = straight with { OutputDir = corpus.Dir[$"split-{tag}"] };
        using var cts = new CancellationTokenSource();
        var first = await Pretraining.RunAsync(split, new ProgressRecorder { OnStep = p => { if (p.Step == 10) cts.Cancel(); } }, cts.Token);
        Assert.True(first.Cancelled);
        Assert.Equal(10, first.Step);
        var second = await Pretraining.RunAsync(split with { ResumeFromCheckpoint = "latest" });
        Assert.Equal(20, second.Step);

        Assert.Equal(20, Losses(straight.OutputDir).Length);
        Assert.Equal(Losses(straight.OutputDir), Losses(split.OutputDir));        // exact double equality
        Assert.Equal(ValLosses(straight.OutputDir), ValLosses(split.OutputDir));
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight.OutputDir, "final", "model.safetensors")),
                     File.ReadAllBytes(Path.Combine(split.OutputDir, "final", "model.safetensors")));
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("rmsprop")]
    public async Task ResumeIsExactForEachOptimizer(string optim)
    {
        var straight = corpus.Options($"straight-{optim}") with
        {
            Optim = optim, SgdMomentum = 0.9, SgdNesterov = true, RmspropMomentum = 0.5, LrSchedulerType = "linear", MaxSteps = 12, EvalSteps = 0,
            LearningRate = optim == "sgd" ? 0.1 : 3e-3,
        };
        await Pretraining.RunAsync(straight);

        var split = straight with { OutputDir = corpus.Dir[$"split-{optim}"] };
        using var cts = new CancellationTokenSource();
        var first = await Pretraining.RunAsync(split, new ProgressRecorder { OnStep = p => { if (p.Step == 5) cts.Cancel(); } }, cts.Token);
        Assert.Equal(5, first.Step);
        await Pretraining.RunAsync(split with { ResumeFromCheckpoint = "latest" });

        var losses = Losses(straight.OutputDir);
        Assert.Equal(12, losses.Length);
        Assert.True(losses[^1] < losses[0], $"{optim} should learn: {losses[0]} → {losses[^1]}");
        Assert.Equal(losses, Losses(split.OutputDir));
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight.OutputDir, "final", "model.safetensors")),
                     File.ReadAllBytes(Path.Combine(split.OutputDir, "final", "model.safetensors")));
    }

    [Fact]
    public async Task CancellationSavesACheckpointAndReturns()
    {
        var o = corpus.Options("cancel") with { SaveSteps = 5 };
        using var cts = new CancellationTokenSource();
        var result = await Pretraining.RunAsync(o, new ProgressRecorder { OnStep = p => { if (p.Step == 7) cts.Cancel(); } }, cts.Token);

        Assert.True(result.Cancelled);
        Assert.Equal(7, result.Step);
        Assert.Null(result.FinalDir);
        Assert.Equal(Path.Combine(o.OutputDir, "checkpoint-7"), result.LastCheckpoint);
        Assert.Equal(7, TrainerState.Read(Path.Combine(result.LastCheckpoint!, TrainerState.FileName)).GlobalStep);
        Assert.Equal([5, 7], CheckpointStore.List(o.OutputDir).Select(c => c.Step));
        Assert.False(Directory.Exists(Path.Combine(o.OutputDir, "final")));

        // Resuming with a different trajectory is refused, naming what changed.
        var e = await Assert.ThrowsAsync<GptSharpException>(() => Pretraining.RunAsync(o with { ResumeFromCheckpoint = "latest", LearningRate = 1e-3 }));
        Assert.Contains("learning_rate (0.003 → 0.001)", e.Message);
        // A fresh run into the same directory must be asked for.
        e = await Assert.ThrowsAsync<GptSharpException>(() => Pretraining.RunAsync(o));
        Assert.Contains("overwrite_output_dir", e.Message);
    }

    [Fact]
    public async Task CheckpointsAreCompleteAndRotated()
    {
        var o = corpus.Options("rotate") with { SaveSteps = 5, SaveTotalLimit = 2, EvalSteps = 5 };
        Directory.CreateDirectory(o.OutputDir);
        string leftover = Path.Combine(o.OutputDir, "checkpoint-99.tmp-1-abc");
        Directory.CreateDirectory(leftover); // what a crash mid-save leaves

        var progress = new ProgressRecorder();
        await Pretraining.RunAsync(o, progress);

        Assert.False(Directory.Exists(leftover));
        Assert.Equal([15, 20], CheckpointStore.List(o.OutputDir).Select(c => c.Step));
        Assert.Equal([RunDirectoryLock.FileName, "checkpoint-15", "checkpoint-20", "final", "metrics.jsonl", "run.json"],
            Directory.EnumerateFileSystemEntries(o.OutputDir).Select(Path.GetFileName).Order());
        string ckpt = Path.Combine(o.OutputDir, "checkpoint-20");
        Assert.Equal(["config.json", "model.safetensors", "optimizer.safetensors", "trainer_state.json"],
            Directory.EnumerateFiles(ckpt).Select(Path.GetFileName).Order());
        var state = TrainerState.Read(Path.Combine(ckpt, TrainerState.FileName));
        Assert.Equal(20, state.GlobalStep);
        Assert.Equal(20 * 4 * 32, state.TokensSeen);
        Assert.NotNull(state.TorchRngState);
        Assert.NotNull(state.BestValLoss);
        Assert.Equal(4, progress.All.Count(p => p.Event == TrainingEvent.Evaluation));

        // The checkpoint is a loadable model directory.
        using var model = GptSharp.Checkpoints.HfCheckpoint.Load(ckpt);
        Assert.Equal(2, model.Config.NLayer);

        // metrics.jsonl: one line per logged step, plus evaluation lines.
        var metrics = MetricsLog.Read(Path.Combine(o.OutputDir, MetricsLog.FileName));
        var eval = metrics.Where(m => m["val_loss"] is not null).ToList();
        Assert.Equal([5, 10, 15, 20], eval.Select(m => m["step"]!.GetValue<int>()));
        Assert.All(eval, m => Assert.Equal(Math.Exp(m["val_loss"]!.GetValue<double>()), m["val_ppl"]!.GetValue<double>(), 9));
        var first = metrics[0];
        Assert.Equal(["step", "loss", "lr", "grad_norm", "batch_size", "tokens_per_sec", "elapsed"], first.Select(kv => kv.Key));
    }

    [Fact]
    public async Task LatestOnAFinishedRunWithoutCheckpointsIsRefusedAndDeletesNothing()
    {
        var o = corpus.Options("finished") with { MaxSteps = 3, SaveSteps = 0, EvalSteps = 0 };
        await Pretraining.RunAsync(o);
        string final = Path.Combine(o.OutputDir, "final");
        string metrics = File.ReadAllText(Path.Combine(o.OutputDir, "metrics.jsonl"));

        var e = await Assert.ThrowsAsync<GptSharpException>(() => Pretraining.RunAsync(o with { ResumeFromCheckpoint = "latest" }));
        Assert.Contains("holds a finished run (final/) and no checkpoint to resume from", e.Message);
        Assert.Contains("--overwrite", e.Message);
        Assert.True(File.Exists(Path.Combine(final, "model.safetensors")));
        Assert.Equal(metrics, File.ReadAllText(Path.Combine(o.OutputDir, "metrics.jsonl")));
        Assert.True(File.Exists(Path.Combine(o.OutputDir, "run.json")));
    }

    [Fact]
    public async Task LatestAfterAnInterruptBeforeTheFirstCheckpointStartsOver()
    {
        var o = corpus.Options("early") with { MaxSteps = 4, SaveSteps = 10, EvalSteps = 0 };
        using var cts = new CancellationTokenSource();
        var first = await Pretraining.RunAsync(o with { ResumeFromCheckpoint = "latest" }, new ProgressRecorder { OnStep = p => { if (p.Step == 2) cts.Cancel(); } }, cts.Token);
        Assert.True(first.Cancelled);
        Directory.Delete(first.LastCheckpoint!, recursive: true); // as if killed before saving: run.json and metrics, no checkpoint
        Assert.Equal(2, Losses(o.OutputDir).Length);
        Assert.False(Directory.Exists(Path.Combine(o.OutputDir, "final")));

        var again = await Pretraining.RunAsync(o with { ResumeFromCheckpoint = "latest" });
        Assert.Equal(4, again.Step);
        Assert.Equal(4, Losses(o.OutputDir).Length); // started over: the old lines are gone
    }

    [Fact]
    public async Task LiveTensorCountStaysFlatAcrossSteps()
    {
        var o = corpus.Options("leaks") with { MaxSteps = 16, SaveSteps = 5, EvalSteps = 4 };
        var progress = new ProgressRecorder();
        await Pretraining.RunAsync(o, progress);
        var live = progress.Steps.Select(p => p.LiveTensors).ToList();
        Assert.All(live.Skip(1), n => Assert.Equal(live[1], n));
    }
}
