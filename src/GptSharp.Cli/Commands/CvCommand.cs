using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using GptSharp.Cli.Progress;
using GptSharp.Data.Dialogues;
using GptSharp.IO;
using GptSharp.Training;
using GptSharp.Training.Advisors;

namespace GptSharp.Cli.Commands;

/// <summary>
/// `gptsharp cv`: k-fold cross-validation of a fine-tuning job. Prints each fold's value and mean ± std, optionally a
/// paired comparison with another configuration on the same folds, and writes cv.json. Every input is checked before
/// anything is written.
/// </summary>
static class CvCommand
{
    public const string DefaultOutput = "cv", JsonFile = "cv.json", CompareDir = "compare";

    public static Command Create()
    {
        var defaults = new CrossValidationOptions();
        var model = new Option<string>("--model") { Description = "Model directory to start from (as for `finetune`).", Required = true };
        var data = new Option<string>("--data") { Description = "Dialogues (any format `finetune` reads), dealt into the folds.", Required = true };
        var config = new Option<string?>("--config") { Description = "JSON file of fine-tuning options (as for `finetune`)." };
        var set = new Option<string[]>("--set")
        {
            Description = "Override one option: --set key=value (repeatable), e.g. --set max_steps=200 --set learning_rate=3e-4.",
            AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [],
        };
        var folds = new Option<int>("--folds") { Description = "k: how many folds (at least 2, at most the number of conversations).", DefaultValueFactory = _ => defaults.Folds };
        var metric = new Option<string>("--metric")
        {
            Description = $"What each fold is scored by on its held-out conversations: {string.Join(", ", CrossValidationMetric.All)} " +
                          "(the reply metrics generate greedily, as `eval`).",
            DefaultValueFactory = _ => defaults.Metric,
        };
        metric.AcceptOnlyFromAmong([.. CrossValidationMetric.All]);
        var seed = new Option<long>("--seed") { Description = "Seed of the shuffle that deals conversations into folds.", DefaultValueFactory = _ => defaults.Seed };
        var compare = new Option<string?>("--compare")
        {
            Description = $"A {JsonFile} from an earlier `cv` run on the same data, folds, seed and metric: compare with it fold by fold.",
        };
        var compareSet = new Option<string[]>("--compare-set")
        {
            Description = $"Also run a second configuration — the same job with these overrides (repeatable) — on the same folds, in OUTPUT/{CompareDir}/, and compare.",
            AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [],
        };
        var maxNewTokens = new Option<int>("--max-new-tokens") { Description = "Longest generated reply for the reply metrics.", DefaultValueFactory = _ => defaults.MaxNewTokens };
        var output = new Option<string>("--output")
        {
            Description = $"Directory for the fold runs (fold-1 … fold-k) and {JsonFile} (default: {DefaultOutput}/).", DefaultValueFactory = _ => DefaultOutput,
        };
        var overwrite = OverwriteOption.Create();
        var parallel = new Option<int>("--parallel")
        {
            Description = "Run up to N folds at once, each in a process of its own (the same results as one after another).", DefaultValueFactory = _ => 1,
        };
        var threads = new Option<int?>("--threads") { Description = "Compute threads per fold process (default: the cores shared out among --parallel processes)." };
        // How --parallel runs one fold in a child process: the parent's arguments plus these.
        var onlyFold = new Option<int?>("--fold") { Description = "Run fold K alone and write its result into its run directory.", Hidden = true };
        var foldCompare = new Option<bool>("--fold-compare") { Description = "--fold runs the --compare-set configuration's fold.", Hidden = true };
        var cmd = new Command("cv", "k-fold cross-validation of fine-tuning: each fold trains on the other folds and is scored on its own; prints every " +
                                    "fold's value and mean ± standard deviation, and with --compare or --compare-set a paired comparison that tells a " +
                                    "real difference from noise. --parallel N runs N folds at once in separate processes.")
            { model, data, config, set, folds, metric, seed, compare, compareSet, maxNewTokens, output, overwrite, parallel, threads, onlyFold, foldCompare };
        cmd.SetAction(async (p, ct) =>
        {
            var w = p.InvocationConfiguration.Output;
            var cv = new CrossValidationOptions
            {
                Folds = p.GetValue(folds), Metric = p.GetValue(metric)!, Seed = p.GetValue(seed), MaxNewTokens = p.GetValue(maxNewTokens),
            };
            if (cv.Folds < 2) throw new GptSharpException($"--folds must be at least 2, got {cv.Folds}");
            string modelDir = p.GetValue(model)!, dataFile = p.GetValue(data)!, outDir = p.GetValue(output)!;
            string? configFile = p.GetValue(config), compareFile = p.GetValue(compare);
            string[] compareOverrides = p.GetValue(compareSet) ?? [];
            if (!Directory.Exists(modelDir)) throw new GptSharpException($"--model: '{modelDir}' is not a directory");
            if (!File.Exists(dataFile)) throw new GptSharpException($"--data: '{dataFile}' does not exist");
            if (configFile is not null && !File.Exists(configFile)) throw new GptSharpException($"--config: '{configFile}' does not exist");
            if (compareFile is not null && !File.Exists(compareFile)) throw new GptSharpException($"--compare: '{compareFile}' does not exist");
            if (compareFile is not null && compareOverrides.Length > 0) throw new GptSharpException("give --compare or --compare-set, not both");
            int processes = p.GetValue(parallel);
            int? threadCount = p.GetValue(threads), fold = p.GetValue(onlyFold);
            if (processes < 1) throw new GptSharpException($"--parallel must be at least 1, got {processes}");
            if (threadCount < 1) throw new GptSharpException($"--threads must be at least 1, got {threadCount}");
            if (p.GetValue(foldCompare) && compareOverrides.Length == 0) throw new GptSharpException("--fold-compare needs --compare-set");
            OutputDirectory.CheckWritable(Path.GetFullPath(outDir), $"--output '{outDir}'");

            string[] overrides = OverwriteOption.Apply(p, overwrite, [$"output_dir={outDir}", .. p.GetValue(set) ?? []]);
            var options = FineTuningOptions.Load(configFile, overrides);
            var conversations = DialogueReader.Read(dataFile);
            cv.Validate(conversations.Count, $"--data '{dataFile}'");
            FineTuningOptions? second = compareOverrides.Length == 0 ? null
                : FineTuningOptions.Load(configFile, [.. overrides, .. compareOverrides]) with { OutputDir = Path.Combine(outDir, CompareDir) };
            CrossValidation.FoldTrainer train = (_, plan, token) =>
                TrainingProgressView.RunAsync(progress => FineTuning.RunAsync(plan, progress, token), plan.MaxSteps, w);
            // Only where folds train in this process: --parallel's own processes get the threads.
            if (threadCount is { } t && (fold is not null || processes == 1)) TorchSharp.torch.set_num_threads(t);

            if (fold is { } k)
            {
                // A child of --parallel: this fold only (its siblings' directories are being written meanwhile, so they are not checked).
                var target = p.GetValue(foldCompare) ? second! : options;
                await CrossValidation.RunFoldAsync(modelDir, conversations, target, cv, k - 1, train, w.WriteLine, ct, dataFile);
                return 0;
            }

            CrossValidation.Check(modelDir, conversations, options, cv, dataFile);
            JsonNode? other = compareFile is null ? null : ReadCompare(compareFile, cv, conversations.Count);
            if (second is not null) CrossValidation.Check(modelDir, conversations, second, cv, dataFile);

            CrossValidationResult result;
            CrossValidationResult? secondResult = null;
            int foldThreads; // recorded: the thread count decides how sums are split, and so a value's last bits
            if (processes == 1)
            {
                foldThreads = TorchSharp.torch.get_num_threads();
                result = await CrossValidation.RunAsync(modelDir, conversations, options, cv, train, w.WriteLine, ct, dataFile);
                if (second is not null)
                    secondResult = await CrossValidation.RunAsync(modelDir, conversations, second, cv, train, s => w.WriteLine($"[{CompareDir}] {s}"), ct, dataFile);
            }
            else
            {
                // Every fold of both configurations in one queue, so no process slot waits for the first configuration to finish.
                int runs = cv.Folds * (second is null ? 1 : 2), running = Math.Min(processes, runs);
                if (processes > runs) w.WriteLine($"--parallel {processes} is more than the {runs} fold runs: running {runs} at a time");
                int perProcess = foldThreads = threadCount ?? Math.Max(1, Environment.ProcessorCount / running);
                w.WriteLine($"running {runs} fold runs in child processes, {running} at a time, {perProcess} compute thread{(perProcess == 1 ? "" : "s")} each " +
                            $"(the values of a run with --threads {perProcess})");
                string[] common =
                [
                    "cv", "--model", modelDir, "--data", dataFile, .. configFile is null ? Array.Empty<string>() : ["--config", configFile],
                    .. (p.GetValue(set) ?? []).SelectMany(s => new[] { "--set", s }), "--folds", I(cv.Folds), "--metric", cv.Metric, "--seed", I(cv.Seed),
                    "--max-new-tokens", I(cv.MaxNewTokens), "--output", outDir, .. p.GetValue(overwrite) ? new[] { "--overwrite" } : [],
                    "--threads", I(perProcess),
                ];
                var jobs = Enumerable.Range(0, cv.Folds)
                    .Select(f => new FoldJob($"fold {f + 1}", CrossValidation.FoldDir(options.OutputDir, f), [.. common, "--fold", I(f + 1)]))
                    .Concat(second is null ? [] : Enumerable.Range(0, cv.Folds).Select(f => new FoldJob($"{CompareDir} fold {f + 1}",
                        CrossValidation.FoldDir(second.OutputDir, f),
                        [.. common, .. compareOverrides.SelectMany(s => new[] { "--compare-set", s }), "--fold", I(f + 1), "--fold-compare"])))
                    .ToList();
                var error = p.InvocationConfiguration.Error;
                var folds = await FoldProcesses.RunAsync(jobs, running, line => Write(w, line), line => Write(error, line), ct);
                result = new CrossValidationResult(cv.Metric, cv.Seed, conversations.Count, [.. folds.Take(cv.Folds)]);
                if (second is not null) secondResult = new CrossValidationResult(cv.Metric, cv.Seed, conversations.Count, [.. folds.Skip(cv.Folds)]);
            }

            w.WriteLine();
            Print(result, w);
            var json = ToJson(result, dataFile, modelDir, overrides);
            json["threads"] = foldThreads;
            IReadOnlyList<double>? otherValues = secondResult?.Values
                ?? other?["values"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
            if (otherValues is not null)
            {
                string otherName = secondResult is not null ? $"--compare-set {string.Join(' ', compareOverrides)}" : compareFile!;
                var comparison = CrossValidationStatistics.Compare(result.Values, otherValues, result.LowerIsBetter);
                w.WriteLine();
                if (secondResult is not null)
                {
                    w.WriteLine($"second configuration ({otherName}):");
                    Print(secondResult, w);
                    w.WriteLine();
                }
                PrintComparison(result, otherValues, comparison, otherName, w);
                json["comparison"] = ComparisonJson(comparison, otherName, otherValues, secondResult is null ? null : ToJson(secondResult, dataFile, modelDir,
                    [.. overrides, .. compareOverrides]));
            }
            Directory.CreateDirectory(outDir);
            string path = Path.Combine(outDir, JsonFile);
            AtomicFile.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            w.WriteLine($"wrote {path}");
            return 0;
        });
        return cmd;
    }

    /// <summary>An earlier cv.json, checked to have been made on the same folds.</summary>
    static JsonNode ReadCompare(string file, CrossValidationOptions cv, int conversations)
    {
        JsonNode? node;
        try { node = JsonNode.Parse(File.ReadAllText(file)); }
        catch (JsonException e) { throw new GptSharpException($"--compare: '{file}' is not JSON: {e.Message}"); }
        string? Str(string key) => node?[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        long? Num(string key) => node?[key] is JsonValue v && v.TryGetValue<long>(out var n) ? n : null;
        if (node?["values"] is not JsonArray values || values.Any(v => v is not JsonValue jv || !jv.TryGetValue<double>(out _)))
            throw new GptSharpException($"--compare: '{file}' is not a {JsonFile} (no \"values\" array of numbers)");
        var mismatches = new List<string>();
        if (Str("metric") != cv.Metric) mismatches.Add($"metric {Str("metric") ?? "?"} (this run: {cv.Metric})");
        if (Num("folds") != cv.Folds || values.Count != cv.Folds) mismatches.Add($"{Num("folds")?.ToString() ?? "?"} folds (this run: {cv.Folds})");
        if (Num("seed") != cv.Seed) mismatches.Add($"seed {Num("seed")?.ToString() ?? "?"} (this run: {cv.Seed})");
        if (Num("conversations") != conversations) mismatches.Add($"{Num("conversations")?.ToString() ?? "?"} conversations (this run: {conversations})");
        if (mismatches.Count > 0)
            throw new GptSharpException($"--compare: '{file}' was not made on the same folds: {string.Join(", ", mismatches)}");
        return node!;
    }

    static string I(long v) => v.ToString(CultureInfo.InvariantCulture);

    static readonly Lock WriteLock = new();

    /// <summary>One line from any fold process, whole.</summary>
    static void Write(TextWriter w, string line)
    {
        lock (WriteLock) w.WriteLine(line);
    }

    static string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);

    static void Print(CrossValidationResult r, TextWriter w)
    {
        w.WriteLine($"{"fold",4}  {"train",5}  {"val",5}  {r.Metric,10}");
        foreach (var f in r.Folds) w.WriteLine($"{f.Fold,4}  {f.TrainCount,5}  {f.ValCount,5}  {F(f.Value),10}");
        var s = r.Summary;
        w.WriteLine($"{r.Metric}: {F(s.Mean)} ± {F(s.StdDev)} (mean ± sample std over {s.Count} folds; standard error {F(s.StdError)}; " +
                    $"{(r.LowerIsBetter ? "lower" : "higher")} is better)");
    }

    static void PrintComparison(CrossValidationResult r, IReadOnlyList<double> other, PairedComparison c, string otherName, TextWriter w)
    {
        w.WriteLine($"paired comparison with {otherName} on the same {r.Folds.Count} folds:");
        w.WriteLine($"{"fold",4}  {"this",10}  {"other",10}  {"difference",10}");
        for (int i = 0; i < r.Folds.Count; i++) w.WriteLine($"{r.Folds[i].Fold,4}  {F(r.Folds[i].Value),10}  {F(other[i]),10}  {F(c.Differences[i]),10}");
        w.WriteLine($"mean difference (this − other): {F(c.MeanDifference)} ± {F(c.StdError)} (standard error); " +
                    $"t = {c.T.ToString("F2", CultureInfo.InvariantCulture)} with {c.DegreesOfFreedom} degrees of freedom");
        w.WriteLine(c.Verdict switch
        {
            ComparisonVerdict.FirstBetter => $"this configuration is better ({(r.LowerIsBetter ? "lower" : "higher")} {r.Metric}, |t| >= {CrossValidationStatistics.NoiseT:G})",
            ComparisonVerdict.SecondBetter => $"the other configuration is better ({(r.LowerIsBetter ? "lower" : "higher")} {r.Metric}, |t| >= {CrossValidationStatistics.NoiseT:G})",
            _ => $"the difference is within noise (|t| < {CrossValidationStatistics.NoiseT:G})",
        });
    }

    static JsonNode? Finite(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    static JsonObject ToJson(CrossValidationResult r, string data, string model, IEnumerable<string> overrides)
    {
        var s = r.Summary;
        return new JsonObject
        {
            ["metric"] = r.Metric,
            ["lower_is_better"] = r.LowerIsBetter,
            ["folds"] = r.Folds.Count,
            ["seed"] = r.Seed,
            ["conversations"] = r.Conversations,
            ["data"] = Path.GetFullPath(data),
            ["model"] = Path.GetFullPath(model),
            ["overrides"] = new JsonArray([.. overrides.Select(o => (JsonNode)JsonValue.Create(o))]),
            ["values"] = new JsonArray([.. r.Values.Select(v => Finite(v))]),
            ["mean"] = Finite(s.Mean),
            ["std"] = Finite(s.StdDev),
            ["stderr"] = Finite(s.StdError),
            ["fold_results"] = new JsonArray([.. r.Folds.Select(f => (JsonNode)new JsonObject
            {
                ["fold"] = f.Fold, ["train"] = f.TrainCount, ["val"] = f.ValCount, ["value"] = Finite(f.Value), ["steps"] = f.Steps,
                ["run_dir"] = Path.GetFullPath(f.RunDir),
            })]),
        };
    }

    static JsonObject ComparisonJson(PairedComparison c, string against, IReadOnlyList<double> other, JsonObject? second) => new()
    {
        ["against"] = against,
        ["other_values"] = new JsonArray([.. other.Select(v => Finite(v))]),
        ["differences"] = new JsonArray([.. c.Differences.Select(v => Finite(v))]),
        ["mean_difference"] = Finite(c.MeanDifference),
        ["stderr"] = Finite(c.StdError),
        ["t"] = Finite(c.T),
        ["degrees_of_freedom"] = c.DegreesOfFreedom,
        ["verdict"] = c.Verdict switch { ComparisonVerdict.FirstBetter => "this_better", ComparisonVerdict.SecondBetter => "other_better", _ => "within_noise" },
        ["second"] = second,
    };
}
