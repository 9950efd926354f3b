using GptSharp.Tests.Cli;
using GptSharp.Tests.Data;
using GptSharp.Training;

namespace GptSharp.Tests.Training;

/// <summary>A damaged newest checkpoint (as a crash or a full disk leaves it) must not stop resume_from_checkpoint=latest.</summary>
[Collection(nameof(GlobalTorchRng))]
public class CorruptCheckpointTests(TinyCorpus corpus) : IClassFixture<TinyCorpus>
{
    static double[] Losses(string outputDir) =>
        MetricsLog.Read(Path.Combine(outputDir, MetricsLog.FileName)).Where(m => m["loss"] is not null).Select(m => m["loss"]!.GetValue<double>()).ToArray();

    static void Truncate(string path)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.Write);
        f.SetLength(f.Length / 2);
    }

    /// <summary>Trains to step 10 (checkpoints 5 and 10) and stops, as if killed.</summary>
    async Task<PretrainingOptions> StoppedAtStep10(string name)
    {
        var o = corpus.Options(name) with { SaveSteps = 5, EvalSteps = 5 };
        using var cts = new CancellationTokenSource();
        var first = await Pretraining.RunAsync(o, new ProgressRecorder { OnStep = p => { if (p.Step == 10) cts.Cancel(); } }, cts.Token);
        Assert.Equal([5, 10], CheckpointStore.List(o.OutputDir).Select(c => c.Step));
        Assert.Equal(10, first.Step);
        return o;
    }

    [Theory]
    [InlineData("optimizer.safetensors", "not a valid safetensors file")]
    [InlineData("model.safetensors", "not a valid safetensors file")]
    [InlineData("trainer_state.json", "invalid trainer state")]
    public async Task LatestSkipsATruncatedNewestCheckpointWithAWarning(string file, string why)
    {
        string tag = Path.GetFileNameWithoutExtension(file);
        var straight = corpus.Options($"straight-{tag}") with { SaveSteps = 5, EvalSteps = 5 };
        await Pretraining.RunAsync(straight);

        var o = await StoppedAtStep10($"corrupt-{tag}") with { ResumeFromCheckpoint = "latest" };
        string bad = CheckpointStore.PathFor(o.OutputDir, 10);
        Truncate(Path.Combine(bad, file));

        string config = corpus.Dir.WriteText($"{tag}.json", o.ToJson());
        var (code, stdout, stderr) = await CliRunner.Run("train", "--config", config);
        Assert.True(code == 0, stderr + stdout);
        Assert.Contains($"warning: cannot resume from {bad}, skipping it: {Path.Combine(bad, file)}: {why}", stdout);
        Assert.Contains($"resumed from {CheckpointStore.PathFor(o.OutputDir, 5)} at step 5", stdout);
        // The run went on from step 5 exactly as if nothing had happened, and rewrote checkpoint-10.
        Assert.Equal(Losses(straight.OutputDir), Losses(o.OutputDir));
        Assert.Equal(10, TrainerState.Read(Path.Combine(bad, TrainerState.FileName)).GlobalStep);
    }

    [Fact]
    public async Task AnExplicitCorruptCheckpointIsAnError()
    {
        var o = await StoppedAtStep10("corrupt-explicit");
        string bad = CheckpointStore.PathFor(o.OutputDir, 10);
        Truncate(Path.Combine(bad, TrainingOptimizer.FileName));

        var e = await Assert.ThrowsAsync<GptSharpException>(() => Pretraining.RunAsync(o with { ResumeFromCheckpoint = bad }));
        Assert.Contains($"{Path.Combine(bad, TrainingOptimizer.FileName)}: not a valid safetensors file", e.Message);
    }

    [Fact]
    public async Task LatestWithNoReadableCheckpointIsAnErrorThatKeepsTheRun()
    {
        var o = await StoppedAtStep10("corrupt-all");
        File.WriteAllText(Path.Combine(CheckpointStore.PathFor(o.OutputDir, 5), TrainerState.FileName), "{\"global_step\": 7, \"options_hash\": \"x\"}");
        File.Delete(Path.Combine(CheckpointStore.PathFor(o.OutputDir, 10), "model.safetensors"));

        var progress = new ProgressRecorder();
        var e = await Assert.ThrowsAsync<GptSharpException>(() => Pretraining.RunAsync(o with { ResumeFromCheckpoint = "latest" }, progress));
        Assert.Contains("no checkpoint in", e.Message);
        Assert.Contains("checkpoint-10: ", e.Message);
        Assert.Contains("model.safetensors: file not found", e.Message);
        Assert.Contains("checkpoint-5: ", e.Message);
        Assert.Contains("global_step is 7, but the directory is for step 5", e.Message);
        Assert.Equal(2, progress.All.Count(p => p.Message?.StartsWith("warning: cannot resume from") == true));
        // Nothing was deleted: the user can still look at (or repair) what is there.
        Assert.Equal([5, 10], CheckpointStore.List(o.OutputDir).Select(c => c.Step));
        Assert.True(File.Exists(Path.Combine(o.OutputDir, MetricsLog.FileName)));
    }

    [Fact]
    public async Task ATornLastMetricsLineIsDroppedOnResume()
    {
        var straight = corpus.Options("straight-torn") with { SaveSteps = 5, EvalSteps = 5 };
        await Pretraining.RunAsync(straight);
        var o = await StoppedAtStep10("torn-metrics");
        string metrics = Path.Combine(o.OutputDir, MetricsLog.FileName);
        // Killed while writing step 11's line; a loss no run can log, so no real figure (a tokens/s of 11255.12…) matches it.
        File.AppendAllText(metrics, "{\"step\":11,\"loss\":-777.25");

        await Pretraining.RunAsync(o with { ResumeFromCheckpoint = "latest" });
        Assert.DoesNotContain("-777.25", File.ReadAllText(metrics));
        Assert.Equal(Losses(straight.OutputDir), Losses(o.OutputDir)); // every line parses, none glued to another
        Assert.Equal(File.ReadAllLines(Path.Combine(straight.OutputDir, MetricsLog.FileName)).Length, File.ReadAllLines(metrics).Length);
    }
}
