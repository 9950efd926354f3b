using System.Globalization;
using GptSharp.Tests.Cli;
using GptSharp.Tests.Cli.Commands;
using GptSharp.Tests.Data;
using GptSharp.Tests.Training;
using GptSharp.Tests.Tuning.Storages;
using GptSharp.Tuning;
using GptSharp.Tuning.Storages;

namespace GptSharp.Tests.Tuning.Jobs;

/// <summary>
/// Workers killed with SIGKILL, as real `gptsharp` processes: in the middle of a trial (the study still completes its
/// n_trials, the killed trial is failed and re-run with its parameters, nothing is counted twice, no run directory is
/// left half-written) and at a random moment in `tune tell` (the trial is either told or not, never half).
/// </summary>
public abstract class WorkerKillTests
{
    /// <summary>A fresh storage URL, or null when its server is not available here (never with CI=true).</summary>
    protected abstract string? NewStorageUrl(string dir);

    internal const int Trials = 3;

    internal static string Config(Fixture.TempDir tmp, string url)
    {
        string model = FinetuneEvalCommandTests.TinyModel(tmp);
        File.WriteAllText(tmp["d.jsonl"], string.Join("\n", Enumerable.Range(0, 8).Select(i =>
            "{\"input\": \"Where is order " + i + "?\", \"output\": \"Order " + i + " has shipped.\"}")));
        return tmp.WriteText("tune.json", $$"""
            {
              "job": "finetune", "model": "{{model}}", "data": "{{tmp["d.jsonl"]}}", "val_data": "{{tmp["d.jsonl"]}}",
              "base": {"max_steps": 40, "eval_steps": 10, "eval_iters": 1, "save_steps": 0, "logging_steps": 10, "device": "cpu", "seed": 1},
              "search_space": {"learning_rate": {"type": "float", "low": 1e-4, "high": 1e-2, "log": true} },
              "n_trials": {{Trials}}, "sampler": {"type": "random", "seed": 2}, "pruner": "none",
              "heartbeat_interval": 0.5, "grace_period": 2, "requeue_failed": true,
              "storage": "{{url}}", "study_name": "kill", "output_dir": "{{tmp["tune"]}}"
            }
            """);
    }

    [Fact]
    public async Task AWorkerKilledMidTrialIsFailedRequeuedAndTheStudyCompletes()
    {
        using var tmp = new Fixture.TempDir();
        if (NewStorageUrl(tmp.Root) is not { } url) return;
        string config = Config(tmp, url);

        FrozenTrial victim;
        using (var worker = new CliProcess(new Dictionary<string, string?>(), "tune", "--config", config))
        {
            // A trial's first evaluation is printed: the worker is mid-trial.
            bool midTrial = worker.WaitForOutput("step 10/40", TimeSpan.FromSeconds(120));
            Assert.True(midTrial, $"{worker.Out}{worker.Err}(exit code {worker.WaitForExit(TimeSpan.Zero)?.ToString() ?? "none: still running"})");
            worker.Signal(9);
            Assert.NotNull(worker.WaitForExit(TimeSpan.FromSeconds(20)));
        }
        using (var afterKill = TrialStorages.Open(url))
            victim = Assert.Single(afterKill.GetAllTrials(afterKill.FindStudy("kill")!.Id), t => t.State == TrialState.Running);
        Assert.NotEmpty(victim.IntermediateValues);
        Assert.True(Directory.Exists(Path.Combine(tmp["tune"], $".trial-{victim.Number:D4}.partial")), "the killed trial left its partial directory");
        Assert.False(Directory.Exists(Path.Combine(tmp["tune"], $"trial-{victim.Number:D4}")));

        var (code, output, err) = await CliProcess.Run(tmp.Root, ["tune", "--config", config]);
        Assert.True(code == 0, err + output);

        using var storage = TrialStorages.Open(url);
        var trials = storage.GetAllTrials(storage.FindStudy("kill")!.Id);
        Assert.Equal(Trials, trials.Count(t => t.State == TrialState.Complete));
        Assert.Equal(TrialState.Fail, trials.Single(t => t.Number == victim.Number).State);
        var retry = trials.Single(t => t.SystemAttrs.GetValueOrDefault(FrozenTrial.RetriedFromKey) == victim.Number.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(TrialState.Complete, retry.State);
        Assert.Equal(victim.Params["learning_rate"], retry.Params["learning_rate"]);
        Assert.Equal(trials.Count, trials.Select(t => t.Number).Distinct().Count());
        Assert.Empty(Directory.GetDirectories(tmp["tune"], ".trial-*"));
        Assert.All(trials.Where(t => t.State == TrialState.Complete), t => Assert.True(Directory.Exists(Path.Combine(tmp["tune"], $"trial-{t.Number:D4}", "final"))));
    }

    [Fact]
    public async Task TwoLocalWorkersShareTheStudyWithoutRepeats()
    {
        using var tmp = new Fixture.TempDir();
        if (NewStorageUrl(tmp.Root) is not { } url) return;
        string config = Config(tmp, url);
        File.WriteAllText(config, File.ReadAllText(config).Replace($"\"n_trials\": {Trials}", "\"n_trials\": 4"));
        var (code, output, err) = await CliProcess.Run(tmp.Root, ["tune", "--config", config, "--workers", "2"]);
        Assert.True(code == 0, err + output);
        Assert.True(output.Contains("[w1] trial"), output);
        Assert.True(output.Contains("[w2] worker done"), output); // it joined; how many trials it got depends on timing
        using var storage = TrialStorages.Open(url);
        var trials = storage.GetAllTrials(storage.FindStudy("kill")!.Id);
        Assert.Equal(4, trials.Count);
        Assert.All(trials, t => Assert.Equal(TrialState.Complete, t.State));
        Assert.Equal(4, trials.Select(t => t.Params["learning_rate"]).Distinct().Count());
    }

    [Fact]
    public async Task KillingTellAtAnyMomentLeavesTheTrialToldOrNot()
    {
        using var tmp = new Fixture.TempDir();
        if (NewStorageUrl(tmp.Root) is not { } url) return;
        const string space = """{"x": {"type": "float", "low": 0, "high": 1}}""";
        var rng = new Random(11);
        for (int i = 0; i < 3; i++)
        {
            var (code, output, err) = await CliProcess.Run(tmp.Root, ["tune", "ask", "--storage", url, "--study", "t", "--search-space", space, "--sampler", "random"]);
            Assert.True(code == 0, err);
            using (var tell = new CliProcess(new Dictionary<string, string?>(), "tune", "tell", "--storage", url, "--study", "t", "--trial", i.ToString(CultureInfo.InvariantCulture), "--value", "0.25"))
            {
                await Task.Delay(rng.Next(200, 1500));
                try { tell.Signal(9); } catch (Exception) { } // it may have finished already
                tell.WaitForExit(TimeSpan.FromSeconds(20));
            }
            using (var storage = TrialStorages.Open(url))
            {
                var t = storage.GetTrial(storage.FindStudy("t")!.Id, i)!;
                Assert.True(t.State == TrialState.Running && t.Value is null || t.State == TrialState.Complete && t.Value == 0.25, $"{t.State} {t.Value}");
            }
            (code, output, err) = await CliProcess.Run(tmp.Root, ["tune", "tell", "--storage", url, "--study", "t", "--trial", i.ToString(CultureInfo.InvariantCulture), "--value", "0.25"]);
            Assert.True(code == 0 || err.Contains("already complete"), err);
        }
        using var s = TrialStorages.Open(url);
        Assert.All(s.GetAllTrials(s.FindStudy("t")!.Id), t => Assert.Equal((TrialState.Complete, 0.25), (t.State, t.Value)));
    }
}

[Collection(nameof(GlobalTorchRng))]
public sealed class SqliteWorkerKillTests : WorkerKillTests
{
    protected override string NewStorageUrl(string dir) => "sqlite:///" + Path.Combine(dir, "study.db");

    [Fact]
    public async Task CtrlCFailsTheRunningTrialAndTheNextRunRepeatsIt()
    {
        using var tmp = new Fixture.TempDir();
        string url = NewStorageUrl(tmp.Root);
        string config = Config(tmp, url);
        // Longer trials (12 evaluations), and the signal in the first two thirds of one: it lands mid-trial, not after the last step.
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"max_steps\": 40", "\"max_steps\": 120"));
        using (var worker = new CliProcess(new Dictionary<string, string?>(), "tune", "--config", config))
        {
            Assert.True(worker.WaitForOutput("step 10/120", TimeSpan.FromSeconds(120)), worker.Out + worker.Err);
            worker.Signal(2);
            Assert.Equal(130, worker.WaitForExit(TimeSpan.FromSeconds(60)));
        }
        FrozenTrial cut;
        using (var storage = TrialStorages.Open(url))
        {
            var trials = storage.GetAllTrials(storage.FindStudy("kill")!.Id);
            cut = Assert.Single(trials, t => t.State == TrialState.Fail); // the trial Ctrl+C cut short
            var again = Assert.Single(trials, t => t.State == TrialState.Waiting);
            Assert.Equal(cut.Number.ToString(CultureInfo.InvariantCulture), again.SystemAttrs[FrozenTrial.RetriedFromKey]);
            Assert.DoesNotContain(trials, t => t.State == TrialState.Running);
        }
        Assert.Empty(Directory.GetDirectories(tmp["tune"], ".trial-*")); // the cut trial's partial run is gone at once

        var (code, output, err) = await CliProcess.Run(tmp.Root, ["tune", "--config", config]);
        Assert.True(code == 0, err + output);
        using var s = TrialStorages.Open(url);
        var all = s.GetAllTrials(s.FindStudy("kill")!.Id);
        var retry = all.Single(t => t.SystemAttrs.GetValueOrDefault(FrozenTrial.RetriedFromKey) == cut.Number.ToString(CultureInfo.InvariantCulture));
        Assert.Equal((TrialState.Complete, cut.Params["learning_rate"]), (retry.State, retry.Params["learning_rate"]));
        Assert.Equal(Trials, all.Count(t => t.State == TrialState.Complete));
    }
}

[Collection(nameof(GlobalTorchRng))]
public sealed class PostgresWorkerKillTests(PostgresServer server) : WorkerKillTests, IClassFixture<PostgresServer>
{
    protected override string? NewStorageUrl(string dir) => server.Available ? server.CreateDatabase() : null;
}
