using System.Diagnostics;
using GptSharp.Tests.Cli;
using GptSharp.Tests.Data;
using GptSharp.Training;
using GptSharp.Checkpoints;
using GptSharp.Models;
using GptSharp.Tokenization;

namespace GptSharp.Tests.Training;

/// <summary>Two trainers on one output directory would interleave their metrics and checkpoints: the second is refused.</summary>
[Collection(nameof(GlobalTorchRng))]
public class RunDirectoryLockTests(TinyCorpus corpus) : IClassFixture<TinyCorpus>
{
    [Fact]
    public void ASecondLockIsRefusedUntilTheFirstIsReleased()
    {
        string dir = corpus.Dir["lock-twice"];
        using (RunDirectoryLock.Acquire(dir))
        {
            var e = Assert.Throws<GptSharpException>(() => RunDirectoryLock.Acquire(dir));
            Assert.Contains($"output_dir '{dir}' is in use by another training run (PID {Environment.ProcessId})", e.Message);
        }
        using var again = RunDirectoryLock.Acquire(dir);
    }

    [Fact]
    public void ALockFileLeftBehindDoesNotBlock()
    {
        string dir = corpus.Dir["lock-stale"];
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, RunDirectoryLock.FileName), "999999\n"); // a holder that is long gone
        Assert.Equal(999999, RunDirectoryLock.LastHolder(dir));
        using var held = RunDirectoryLock.Acquire(dir);
        Assert.Equal(Environment.ProcessId, RunDirectoryLock.LastHolder(dir));
    }

    [Fact]
    public async Task TrainingIntoADirectoryInUseFailsAtOnceAndLeavesItAlone()
    {
        var o = corpus.Options("lock-busy") with { MaxSteps = 3 };
        using (RunDirectoryLock.Acquire(o.OutputDir))
        {
            var e = await Assert.ThrowsAsync<GptSharpException>(() => Pretraining.RunAsync(o));
            Assert.Contains($"'{o.OutputDir}' is in use by another training run (PID {Environment.ProcessId})", e.Message);
            Assert.Equal([RunDirectoryLock.FileName], Directory.EnumerateFileSystemEntries(o.OutputDir).Select(Path.GetFileName));
        }
        await Pretraining.RunAsync(o); // released: now it runs
    }

    [Fact]
    public async Task EveryWayOutOfARunReleasesTheLock()
    {
        var o = corpus.Options("lock-exits") with { MaxSteps = 6, SaveSteps = 2 };
        await Pretraining.RunAsync(o);                                         // finished
        RunDirectoryLock.Acquire(o.OutputDir).Dispose();

        await Assert.ThrowsAsync<GptSharpException>(() => Pretraining.RunAsync(o)); // refused (a previous run is there)
        RunDirectoryLock.Acquire(o.OutputDir).Dispose();

        var cancelled = o with { OutputDir = corpus.Dir["lock-cancel"], SaveSteps = 0 };
        using var cts = new CancellationTokenSource();
        var result = await Pretraining.RunAsync(cancelled, new ProgressRecorder { OnStep = p => { if (p.Step == 2) cts.Cancel(); } }, cts.Token);
        Assert.True(result.Cancelled);
        RunDirectoryLock.Acquire(cancelled.OutputDir).Dispose();

        var failing = o with { OutputDir = corpus.Dir["lock-throws"] };
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Pretraining.RunAsync(failing, new ProgressRecorder
        {
            OnStep = p => { if (p.Step == 2) throw new InvalidOperationException("boom"); }, // an exception in the middle of the loop
        }));
        Assert.Equal("boom", e.Message);
        RunDirectoryLock.Acquire(failing.OutputDir).Dispose();
    }

    [Fact]
    public async Task FinetuningIntoADirectoryInUseIsRefused()
    {
        using var tmp = new Fixture.TempDir();
        var tok = new GptSharp.Tokenization.BpeTrainer(new GptSharp.Tokenization.BpeTrainerOptions { VocabSize = 300, MinPairFrequency = 1 })
            .Train(["Where is order 123? Order 123 has shipped."]);
        using (var model = GptSharp.Models.Gpt.Create(new GptSharp.Models.GptConfig { VocabSize = tok.VocabSize, BlockSize = 32, NLayer = 1, NHead = 2, NEmbd = 16 }))
            new GptSharp.Checkpoints.ModelDirectory(model, tok).Save(tmp["base"]);
        File.WriteAllText(tmp["pairs.jsonl"], """{"input": "Where is order 123?", "output": "Order 123 has shipped."}""" + "\n");

        using (RunDirectoryLock.Acquire(tmp["run"]))
        {
            var (code, _, err) = await CliRunner.Run("finetune", "--model", tmp["base"], "--data", tmp["pairs.jsonl"], "--output", tmp["run"],
                "--val-fraction", "0", "--set", "max_steps=2", "per_device_train_batch_size=1", "block_size=32");
            Assert.Equal(1, code);
            Assert.Contains($"error: output_dir '{tmp["run"]}' is in use by another training run (PID {Environment.ProcessId})", err);
        }
    }

    /// <summary>
    /// The OS drops the lock when its holder dies, even by SIGKILL: a real `gptsharp train` child process holds it,
    /// is refused to us while alive, and stops blocking once killed. Relaunched with tcmalloc (where installed), the
    /// trainer is a grandchild that must die with the process we kill rather than train on unseen.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AKilledTrainerDoesNotLeaveTheDirectoryLocked(bool allowRelaunch)
    {
        var o = corpus.Options($"lock-killed-{allowRelaunch}") with { MaxSteps = 100_000, LoggingSteps = 1, EvalSteps = 0 };
        string config = corpus.Dir.WriteText($"lock-killed-{allowRelaunch}.json", o.ToJson());
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "GptSharp.Cli.dll"), "train", "--config", config }) psi.ArgumentList.Add(a);
        if (!allowRelaunch) psi.Environment["GPTSHARP_ALLOCATOR"] = "glibc"; // no tcmalloc relaunch: the PID we kill is the trainer's
        using var child = Process.Start(psi)!;
        try
        {
            string? line;
            while ((line = await child.StandardOutput.ReadLineAsync()) is not null && !line.StartsWith("step 1/")) { }
            if (line is null) Assert.Fail("the child trainer ended early: " + await child.StandardError.ReadToEndAsync());

            int trainer = RunDirectoryLock.LastHolder(o.OutputDir) ?? throw new Xunit.Sdk.XunitException("no PID in the lock file");
            if (!allowRelaunch) Assert.Equal(child.Id, trainer);
            var e = Assert.Throws<GptSharpException>(() => RunDirectoryLock.Acquire(o.OutputDir));
            Assert.Contains($"(PID {trainer})", e.Message);

            using var trainerProcess = Process.GetProcessById(trainer);
            child.Kill(); // SIGKILL to the process we started: nothing in it gets to clean up
            await child.WaitForExitAsync();
            // The trainer itself, when it is a relaunched grandchild (bounded, so that a surviving one fails the test).
            using (var bound = new CancellationTokenSource(TimeSpan.FromMinutes(1))) await trainerProcess.WaitForExitAsync(bound.Token);
            using var ours = RunDirectoryLock.Acquire(o.OutputDir);
            Assert.Equal(Environment.ProcessId, RunDirectoryLock.LastHolder(o.OutputDir));
        }
        finally
        {
            if (!child.HasExited) child.Kill(entireProcessTree: true);
            if (RunDirectoryLock.LastHolder(o.OutputDir) is { } pid && pid != Environment.ProcessId)
                try { using var orphan = Process.GetProcessById(pid); orphan.Kill(); } catch (ArgumentException) { } // already gone
        }
    }
}
