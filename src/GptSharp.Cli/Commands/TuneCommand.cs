using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using GptSharp.Cli.Report;
using GptSharp.IO;
using GptSharp.Tuning;
using GptSharp.Tuning.Importance;
using GptSharp.Tuning.Jobs;
using GptSharp.Tuning.Samplers;

namespace GptSharp.Cli.Commands;

/// <summary>
/// `gptsharp tune`: hyperparameter tuning of a training job (tune.json), workers that join a study from anywhere,
/// Optuna-style ask/tell for any program, and the study's report.
/// </summary>
static class TuneCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = "tune.json: the base job, search_space, objective, n_trials, sampler, pruner, storage, study_name (see README, \"Tuning\")." };
        var workers = new Option<int?>("--workers") { Description = "Local worker processes, this one included (overrides the config's \"workers\")." };
        var nTrials = new Option<int?>("--n-trials") { Description = "The study's budget: trials complete, pruned or running, across all workers (overrides \"n_trials\")." };
        var storage = new Option<string?>("--storage") { Description = "Storage URL (overrides \"storage\"): sqlite:///study.db, postgresql://user@host:5432/db." };
        var set = new Option<string[]>("--set")
        {
            Description = "Override one option of the base job: --set key=value (repeatable), e.g. --set max_steps=100 for shorter trials.",
            AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [],
        };
        var threads = ThreadsOption();
        var cmd = new Command("tune", "Tune a training job's hyperparameters: runs trials of a pretraining or fine-tuning config with TPE, random or grid " +
                                      "search, prunes bad ones early (ASHA, median, Hyperband), keeps every trial in a study that several workers share. " +
                                      "Running the same command again continues the study.")
            { config, workers, nTrials, storage, set, threads };
        cmd.Subcommands.Add(WorkerCommand());
        cmd.Subcommands.Add(AskCommand());
        cmd.Subcommands.Add(TellCommand());
        cmd.Subcommands.Add(ReportCommand());
        cmd.SetAction(async (p, ct) =>
        {
            var w = p.InvocationConfiguration.Output;
            string path = p.GetValue(config) ?? throw new GptSharpException("tune needs --config tune.json (or a subcommand: worker, ask, tell, report; see --help)");
            var c = TuneConfig.Load(path, p.GetValue(set) ?? []);
            c = c.WithOverrides(p.GetValue(workers), p.GetValue(nTrials), p.GetValue(storage), "the command line");
            using var store = TuningComponents.OpenStorage(c.Storage);
            var study = TuneStudy.Open(c, store);
            Directory.CreateDirectory(c.OutputDir);
            string baseFile = Path.Combine(c.OutputDir, "base.json");
            AtomicFile.WriteAllText(baseFile, c.Base.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            int done = study.GetTrials(TrialState.Complete, TrialState.Pruned).Count;
            w.WriteLine($"study \"{c.StudyName}\" in {Redact(c.Storage)}: {done} of {c.NTrials} trials done; {c.Workers} worker{(c.Workers == 1 ? "" : "s")}; " +
                        $"objective {c.Objective} ({c.Direction.ToName()}); runs in {c.OutputDir}");

            int perWorker = p.GetValue(threads) ?? Math.Max(1, Environment.ProcessorCount / c.Workers);
            var children = Enumerable.Range(2, c.Workers - 1).Select(k => StartWorker(c, k, perWorker, w)).ToList();
            Action<string> log = c.Workers == 1 ? w.WriteLine : line => Write(w, $"[w1] {line}");
            if (c.Workers > 1 || p.GetValue(threads) is not null) TorchSharp.torch.set_num_threads(perWorker);
            try
            {
                await TuneWorker.RunAsync(c, study, log, ct);
            }
            finally
            {
                foreach (var child in children)
                {
                    if (ct.IsCancellationRequested && !child.HasExited) child.Kill(entireProcessTree: false);
                    await child.WaitForExitAsync(CancellationToken.None);
                }
            }
            PrintSummary(c, study, baseFile, w);
            return 0;
        });
        return cmd;
    }

    static Option<int?> ThreadsOption() => new("--threads") { Description = "Compute threads per worker (default: the cores shared out among local workers)." };

    static Command WorkerCommand()
    {
        var storage = StorageOption();
        var study = StudyOption();
        var threads = ThreadsOption();
        var label = new Option<string?>("--label") { Description = "A name for this worker's lines (set by `tune --workers`).", Hidden = true };
        var cmd = new Command("worker", "Join a study that `gptsharp tune` created and run its trials until the budget is spent; " +
                                        "start one on each machine that can reach the storage (paths in the study's config must exist there).")
            { storage, study, threads, label };
        cmd.SetAction(async (p, ct) =>
        {
            var w = p.InvocationConfiguration.Output;
            using var store = TuningComponents.OpenStorage(p.GetValue(storage)!);
            var (config, s) = TuneStudy.Join(store, p.GetValue(study)!);
            if (p.GetValue(threads) is { } t) TorchSharp.torch.set_num_threads(t);
            string prefix = p.GetValue(label) is { } l ? $"[{l}] " : "";
            int n = await TuneWorker.RunAsync(config, s, line => Write(w, prefix + line), ct);
            Write(w, $"{prefix}worker done: {n} trial{(n == 1 ? "" : "s")}");
            return 0;
        });
        return cmd;
    }

    static Command AskCommand()
    {
        var storage = StorageOption();
        var study = StudyOption();
        var direction = new Option<string>("--direction") { Description = "minimize or maximize (when the study is created).", DefaultValueFactory = _ => "minimize" };
        var sampler = new Option<string>("--sampler") { Description = "tpe, random or grid.", DefaultValueFactory = _ => "tpe" };
        var seed = new Option<int?>("--seed") { Description = "The sampler's seed: the same seed and trials give the same suggestions." };
        var space = new Option<string>("--search-space")
        {
            Description = "The parameters, as JSON or the path of a JSON file: {\"x\": {\"type\": \"float\", \"low\": -5, \"high\": 5, \"log\": false}, " +
                          "\"n\": {\"type\": \"int\", \"low\": 1, \"high\": 8, \"step\": 1}, \"o\": {\"type\": \"categorical\", \"choices\": [\"a\", \"b\"]}}",
            Required = true,
        };
        var cmd = new Command("ask", "Start a trial of a study (created if needed) and print it as one JSON line: {\"number\": 0, \"params\": {...}}. " +
                                     "Evaluate the params with any program, then report with `tune tell`.")
            { storage, study, direction, sampler, seed, space };
        cmd.SetAction((p, ct) =>
        {
            string text = p.GetValue(space)!;
            if (!text.TrimStart().StartsWith('{'))
                text = File.Exists(text) ? File.ReadAllText(text) : throw new GptSharpException($"--search-space {text}: neither JSON (it starts with '{{') nor a file");
            var searchSpace = SearchSpace.Parse(text, "--search-space");
            var dir = StudyDirectionExtensions.Parse(p.GetValue(direction)!);
            string name = p.GetValue(study)!;
            using var store = TuningComponents.OpenStorage(p.GetValue(storage)!);
            var sampling = TuningComponents.CreateSampler(JsonValue.Create(p.GetValue(sampler)!.Trim().ToLowerInvariant()), p.GetValue(seed) ?? 0, searchSpace);
            var s = AskTell.Open(store, name, dir, sampling, searchSpace);
            var trial = s.Ask() ?? throw new GptSharpException(sampling is GridSampler
                ? $"study \"{name}\": every grid point has been asked"
                : $"study \"{name}\": no trial can be started");
            var parameters = new JsonObject();
            foreach (var (k, d) in searchSpace) parameters[k] = CategoricalDistribution.ToNode(trial.Suggest(k, d));
            p.InvocationConfiguration.Output.WriteLine(new JsonObject { ["number"] = trial.Number, ["params"] = parameters }.ToJsonString());
            return Task.FromResult(0);
        });
        return cmd;
    }

    static Command TellCommand()
    {
        var storage = StorageOption();
        var study = StudyOption();
        var trial = new Option<int>("--trial") { Description = "The trial's number, as `tune ask` printed it.", Required = true };
        var value = new Option<string?>("--value") { Description = "The objective's value (the trial becomes complete)." };
        var state = new Option<string?>("--state") { Description = "pruned or fail (instead of --value); a pruned trial keeps its last reported value." };
        var cmd = new Command("tell", "Finish a trial started by `tune ask`: --value V for a result, or --state pruned|fail.") { storage, study, trial, value, state };
        cmd.SetAction((p, ct) =>
        {
            string? v = p.GetValue(value), st = p.GetValue(state);
            if ((v is null) == (st is null)) throw new GptSharpException("tell needs either --value V or --state pruned|fail");
            double? number = null;
            if (v is not null)
                number = double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) ? d
                    : throw new GptSharpException($"--value {v}: expected a finite number");
            var finalState = st is null ? TrialState.Complete : TrialStateExtensions.Parse(st);
            if (st is not null && finalState is not (TrialState.Pruned or TrialState.Fail))
                throw new GptSharpException($"--state {st}: expected pruned or fail (a complete trial is told with --value)");
            using var store = TuningComponents.OpenStorage(p.GetValue(storage)!);
            string name = p.GetValue(study)!;
            var info = store.FindStudy(name) ?? throw Study.NoSuchStudy(name, store);
            var s = Study.Load(name, store, new RandomSampler());
            var told = s.Tell(p.GetValue(trial), finalState, number);
            p.InvocationConfiguration.Output.WriteLine($"trial {told.Number} {told.State.ToName()}" + (told.Value is { } x ? $" with value {x.ToString("R", CultureInfo.InvariantCulture)}" : ""));
            return Task.FromResult(0);
        });
        return cmd;
    }

    static Command ReportCommand()
    {
        var storage = StorageOption();
        var study = StudyOption();
        var output = new Option<string?>("--output") { Description = "Where trials.csv, trials.json and the plots go (default: tune-report-STUDY)." };
        var cmd = new Command("report", "A study's trials table (CSV, JSON) and plots: optimization history, intermediate values, parameter slices, parameter importance.")
            { storage, study, output };
        cmd.SetAction((p, ct) =>
        {
            var w = p.InvocationConfiguration.Output;
            using var store = TuningComponents.OpenStorage(p.GetValue(storage)!);
            string name = p.GetValue(study)!;
            var s = Study.Load(name, store, new RandomSampler());
            var trials = s.Trials;
            string dir = p.GetValue(output) ?? $"tune-report-{name}";
            var (csv, json) = TrialsTable.Write(trials, dir);
            PrintTable(s, w);
            var importance = ParameterImportance.Evaluate([.. trials.Where(t => t.State == TrialState.Complete)], s.Direction);
            if (importance.Count > 0)
                w.WriteLine("parameter importance (fANOVA main effects): " +
                            string.Join(", ", importance.Select(kv => $"{kv.Key} {kv.Value.ToString("F2", CultureInfo.InvariantCulture)}")));
            var plots = TuningPlots.WriteAll(s, trials, dir);
            w.WriteLine($"trials → {csv}, {json}");
            foreach (var plot in plots) w.WriteLine($"plot → {plot}");
            return Task.FromResult(0);
        });
        return cmd;
    }

    static Option<string> StorageOption() => new("--storage") { Description = "Storage URL: sqlite:///study.db, postgresql://user@host:5432/db.", Required = true };
    static Option<string> StudyOption() => new("--study") { Description = "The study's name.", Required = true };

    static Process StartWorker(TuneConfig c, int k, int threads, TextWriter w)
    {
        var info = SelfProcess.StartInfo(["tune", "worker", "--storage", c.Storage, "--study", c.StudyName, "--threads", threads.ToString(CultureInfo.InvariantCulture),
            "--label", $"w{k}"]);
        var process = Process.Start(info) ?? throw new GptSharpException("could not start a worker process");
        process.OutputDataReceived += (_, e) => { if (e.Data is { } line) Write(w, line); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is { } line) Write(w, $"[w{k}] {line}"); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    static readonly Lock WriteLock = new();

    static void Write(TextWriter w, string line)
    {
        lock (WriteLock) w.WriteLine(line);
    }

    static void PrintSummary(TuneConfig c, Study study, string baseFile, TextWriter w)
    {
        var trials = study.Trials;
        var (csv, json) = TrialsTable.Write(trials, c.OutputDir);
        w.WriteLine();
        PrintTable(study, w);
        var pruned = trials.Where(t => t.State == TrialState.Pruned).ToList();
        long saved = pruned.Sum(t => Attr(t, "max_steps") - Attr(t, "steps"));
        long spent = trials.Where(t => t.State is TrialState.Complete or TrialState.Pruned).Sum(t => Attr(t, "steps"));
        if (pruned.Count > 0)
            w.WriteLine($"pruning stopped {pruned.Count} trial{(pruned.Count == 1 ? "" : "s")} early: {saved:N0} training steps saved ({spent:N0} run)");
        w.WriteLine($"trials → {csv}, {json}");
        if (study.GetTrials(TrialState.Complete).Count == 0)
        {
            w.WriteLine("no trial completed yet");
            return;
        }
        var best = study.BestTrial;
        w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"best: trial {best.Number}, {c.Objective} {best.Value:F4}; run in {TrialRunner.RunDir(c, best.Number)}"));
        string sets = string.Join(" ", best.Params.Select(p => "--set " + Shell(TuneConfig.Override(p.Key, p.Value))));
        string command = c.CvFolds is { } k
            ? $"gptsharp cv --model {Shell(c.Model!)} --data {Shell(c.Data!)} --folds {k} --seed {c.Seed} --metric {c.Objective} --config {Shell(baseFile)} {sets} --output runs/best"
            : c.Job == "finetune"
            ? $"gptsharp finetune --model {Shell(c.Model!)} --data {Shell(c.Data!)}{(c.ValData is { } v ? $" --val-data {Shell(v)}" : "")} --config {Shell(baseFile)} {sets} --set output_dir=runs/best"
            : $"gptsharp train --config {Shell(baseFile)} {sets} --set output_dir=runs/best";
        w.WriteLine($"reproduce it with:\n  {command}");
    }

    /// <summary>The trials, newest last: number, state, value, steps and parameters.</summary>
    static void PrintTable(Study study, TextWriter w)
    {
        var trials = study.Trials;
        var names = trials.SelectMany(t => t.Params.Keys).Distinct().ToArray();
        w.WriteLine($"{"trial",5}  {"state",-8} {"value",10}  {"step",6}  {string.Join("  ", names)}");
        foreach (var t in trials)
        {
            string value = t.Value is { } v ? v.ToString("F4", CultureInfo.InvariantCulture) : "-";
            string step = t.LastStep?.ToString(CultureInfo.InvariantCulture) ?? "-";
            string parameters = string.Join("  ", names.Select(n => t.Params.TryGetValue(n, out var x) ? TuneConfig.Format(x is double d ? Math.Round(d, 6) : x) : "-"));
            w.WriteLine($"{t.Number,5}  {t.State.ToName(),-8} {value,10}  {step,6}  {parameters}");
        }
    }

    static long Attr(FrozenTrial t, string key) => t.UserAttrs.TryGetValue(key, out var json) && long.TryParse(json, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) ? v : 0;

    static string Shell(string s) => s.All(ch => char.IsLetterOrDigit(ch) || "-_./=:+,@".Contains(ch)) ? s : "'" + s.Replace("'", "'\\''") + "'";

    /// <summary>A URL as printed: without its password.</summary>
    static string Redact(string url) => System.Text.RegularExpressions.Regex.Replace(url, @"://([^:/@]+):[^@]*@", "://$1:***@");
}
