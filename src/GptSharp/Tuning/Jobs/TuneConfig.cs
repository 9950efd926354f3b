using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using GptSharp.Data.Dialogues;
using GptSharp.Training;

namespace GptSharp.Tuning.Jobs;

/// <summary>
/// What <c>gptsharp tune</c> runs, read from tune.json: the base job (a pretraining or fine-tuning config, inline or a
/// file), the search space over its options, the objective and its direction, the budget, the sampler and pruner, the
/// storage and the study. A study keeps its config (<see cref="ToJson"/>), so a worker on another machine needs only the
/// storage URL and the study name. Paths are resolved against the working directory and kept absolute.
/// </summary>
public sealed record TuneConfig
{
    /// <summary>"finetune" or "pretrain".</summary>
    public required string Job { get; init; }
    /// <summary>Fine-tuning: the model directory to start from.</summary>
    public string? Model { get; init; }
    /// <summary>Fine-tuning: the dialogues file.</summary>
    public string? Data { get; init; }
    /// <summary>Fine-tuning: held-out dialogues (needed for reply metrics as objectives, unless <see cref="CvFolds"/>).</summary>
    public string? ValData { get; init; }
    /// <summary>
    /// Fine-tuning: score each trial by k-fold cross-validation of <see cref="Data"/> — the mean of the objective over
    /// k fold runs — instead of one run (null: one run). The folds supply the validation, so val_data and val_fraction do not apply.
    /// </summary>
    public int? CvFolds { get; init; }
    /// <summary>The base job's training options (as a train/finetune config holds them).</summary>
    public required JsonObject Base { get; init; }
    public required IReadOnlyDictionary<string, Distribution> SearchSpace { get; init; }
    /// <summary>val_loss, or a reply metric of held-out dialogues: exact_match, token_f1, bleu.</summary>
    public string Objective { get; init; } = "val_loss";
    public StudyDirection Direction { get; init; } = StudyDirection.Minimize;
    /// <summary>The study's budget: trials running, complete or pruned, across all workers.</summary>
    public int NTrials { get; init; } = 20;
    public TimeSpan? Timeout { get; init; }
    /// <summary>"tpe", "random", "grid", or an object with "type" and the sampler's options.</summary>
    public JsonNode Sampler { get; init; } = JsonValue.Create("tpe");
    /// <summary>"asha", "median", "hyperband", "none", or an object with "type" and the pruner's options.</summary>
    public JsonNode Pruner { get; init; } = JsonValue.Create("none");
    public required string Storage { get; init; }
    public required string StudyName { get; init; }
    /// <summary>Where trial-NNNN run directories, trials.csv/json and base.json go.</summary>
    public required string OutputDir { get; init; }
    /// <summary>Keep the run directories of the best N trials only (null: keep all).</summary>
    public int? KeepBest { get; init; }
    public TimeSpan HeartbeatInterval { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan GracePeriod { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>Re-run a trial whose worker died, with the same parameters.</summary>
    public bool RequeueFailed { get; init; } = true;
    /// <summary>Local worker processes (this one included).</summary>
    public int Workers { get; init; } = 1;
    /// <summary>The sampler's seed when its spec gives none: the base job's seed.</summary>
    public int Seed { get; init; }
    /// <summary>Trials to run first with these parameters (e.g. today's defaults, to compare against); enqueued once per study.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, object?>> EnqueueTrials { get; init; } = [];

    /// <summary>The objectives and the direction each one has unless told otherwise.</summary>
    public static readonly IReadOnlyDictionary<string, StudyDirection> Objectives = new Dictionary<string, StudyDirection>
    {
        ["val_loss"] = StudyDirection.Minimize,
        ["exact_match"] = StudyDirection.Maximize,
        ["token_f1"] = StudyDirection.Maximize,
        ["bleu"] = StudyDirection.Maximize,
    };

    /// <summary>Options a trial sets itself: tuning them makes no sense.</summary>
    static readonly string[] NotTunable = ["output_dir", "overwrite_output_dir", "resume_from_checkpoint", "data_dir", "init_from", "device"];

    static readonly string[] TopKeys =
    [
        "job", "model", "data", "val_data", "base", "search_space", "objective", "direction", "n_trials", "timeout", "sampler", "pruner",
        "storage", "study_name", "output_dir", "keep_best", "heartbeat_interval", "grace_period", "requeue_failed", "workers", "enqueue_trials",
        "cv_folds",
    ];

    /// <summary>
    /// Reads and checks tune.json; every error names the file and the key. <paramref name="baseOverrides"/> (<c>key=value</c>,
    /// the CLI's <c>--set</c>) change the base job's options, checked like the rest.
    /// </summary>
    public static TuneConfig Load(string path, IEnumerable<string>? baseOverrides = null)
    {
        if (!File.Exists(path)) throw new GptSharpException($"{path}: tuning config not found");
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new GptSharpException($"{path}:{e.LineNumber + 1}: invalid JSON ({e.Message.Split(" Path:")[0]})");
        }
        if (root is not JsonObject o) throw new GptSharpException($"{path}: expected a JSON object");
        var overrides = (baseOverrides ?? []).ToArray();
        if (overrides.Length > 0)
        {
            var b = o["base"] switch
            {
                null => new JsonObject(),
                JsonValue v when v.TryGetValue<string>(out var file) => ReadBaseFile(file, path),
                JsonObject inline => (JsonObject)inline.DeepClone(),
                _ => throw new GptSharpException($"{path}: base: expected an object of training options or the path of a config file"),
            };
            foreach (var assignment in overrides)
            {
                int eq = assignment.IndexOf('=');
                if (eq <= 0) throw new GptSharpException($"--set expects key=value (got '{assignment}')");
                string value = assignment[(eq + 1)..];
                // Numbers, booleans and null as JSON; anything else as a string (the options loader checks the type).
                JsonNode? node;
                try { node = JsonNode.Parse(value); }
                catch (JsonException) { node = JsonValue.Create(value); }
                b[assignment[..eq].Trim()] = node is JsonValue or null ? node : JsonValue.Create(value);
            }
            o["base"] = b;
        }
        return FromJson(o, path, Path.GetFileNameWithoutExtension(path));
    }

    /// <summary>Reads a config object (<see cref="Load"/>'s, or one a study kept); <paramref name="source"/> names it in errors.</summary>
    public static TuneConfig FromJson(JsonObject o, string source, string defaultStudyName = "study")
    {
        foreach (var (key, _) in o)
            if (!TopKeys.Contains(key))
            {
                var close = NameSuggestions.Closest(key, TopKeys);
                throw new GptSharpException($"{source}: unknown key \"{key}\"" + (close.Count > 0 ? $" (did you mean {close[0]}?)" : "") +
                    $"; valid keys: {string.Join(", ", TopKeys)}");
            }
        string job = Str(o, "job", source) ?? throw new GptSharpException($"{source}: \"job\" is required: \"finetune\" or \"pretrain\"");
        if (job is not ("finetune" or "pretrain")) throw new GptSharpException($"{source}: job: expected \"finetune\" or \"pretrain\", got \"{job}\"");

        JsonObject baseOptions = o["base"] switch
        {
            null => new JsonObject(),
            JsonObject b => (JsonObject)b.DeepClone(),
            JsonValue v when v.TryGetValue<string>(out var file) => ReadBaseFile(file, source),
            _ => throw new GptSharpException($"{source}: base: expected an object of training options or the path of a {job} config file"),
        };
        var space = Tuning.SearchSpace.FromJson(o["search_space"] ?? throw new GptSharpException($"{source}: \"search_space\" is required"), $"{source}: search_space");

        string objective = Str(o, "objective", source) ?? "val_loss";
        if (!Objectives.TryGetValue(objective, out var direction))
            throw new GptSharpException($"{source}: objective: expected one of {string.Join(", ", Objectives.Keys)}, got \"{objective}\"");
        if (Str(o, "direction", source) is { } d)
        {
            try { direction = StudyDirectionExtensions.Parse(d); }
            catch (GptSharpException e) { throw new GptSharpException($"{source}: {e.Message}"); }
        }

        string studyName = Str(o, "study_name", source) ?? defaultStudyName;
        string outputDir = Path.GetFullPath(Str(o, "output_dir", source) ?? Path.Combine("runs", "tune-" + studyName));
        var config = new TuneConfig
        {
            Job = job,
            Model = Full(Str(o, "model", source)),
            Data = Full(Str(o, "data", source)),
            ValData = Full(Str(o, "val_data", source)),
            CvFolds = Int(o, "cv_folds", source),
            Base = baseOptions,
            SearchSpace = space,
            Objective = objective,
            Direction = direction,
            NTrials = Int(o, "n_trials", source) ?? 20,
            Timeout = Seconds(o, "timeout", source),
            Sampler = o["sampler"]?.DeepClone() ?? JsonValue.Create("tpe"),
            Pruner = o["pruner"]?.DeepClone() ?? JsonValue.Create("none"),
            StudyName = studyName,
            OutputDir = outputDir,
            Storage = StorageUrl(Str(o, "storage", source) ?? "sqlite:///" + Path.Combine(outputDir, "study.db")),
            KeepBest = Int(o, "keep_best", source),
            HeartbeatInterval = Seconds(o, "heartbeat_interval", source) ?? TimeSpan.FromSeconds(10),
            GracePeriod = Seconds(o, "grace_period", source) ?? TimeSpan.FromSeconds(60),
            RequeueFailed = o["requeue_failed"] is { } r ? (r is JsonValue rv && rv.TryGetValue<bool>(out var rb) ? rb
                : throw new GptSharpException($"{source}: requeue_failed: expected true or false")) : true,
            Workers = Int(o, "workers", source) ?? 1,
            Seed = baseOptions["seed"] is JsonValue sv && sv.TryGetValue<int>(out var seed) ? seed : 1337,
            EnqueueTrials = o["enqueue_trials"] switch
            {
                null => [],
                JsonArray a => [.. a.Select((t, i) => t is JsonObject p
                    ? (IReadOnlyDictionary<string, object?>)p.ToDictionary(kv => kv.Key, kv => Study.FromNode(kv.Value))
                    : throw new GptSharpException($"{source}: enqueue_trials[{i}]: expected an object of parameter values"))],
                _ => throw new GptSharpException($"{source}: enqueue_trials: expected an array of objects of parameter values"),
            },
        };
        config.Check(source);
        return config;
    }

    /// <summary>The config with the command line's workers, budget and storage in place of its own, checked again.</summary>
    public TuneConfig WithOverrides(int? workers, int? nTrials, string? storage, string source)
    {
        var c = this with { Workers = workers ?? Workers, NTrials = nTrials ?? NTrials, Storage = storage is null ? Storage : StorageUrl(storage) };
        c.Check(source);
        return c;
    }

    /// <summary>Checks everything that can be checked before a trial runs: inputs exist, the search space names options of the job whose every bound and choice the job accepts.</summary>
    void Check(string source)
    {
        void Need(bool ok, string message) { if (!ok) throw new GptSharpException($"{source}: {message}"); }
        Need(NTrials >= 1, $"n_trials must be at least 1 (got {NTrials})");
        Need(Workers >= 1, $"workers must be at least 1 (got {Workers})");
        Need(Workers == 1 || !Storage.Trim().ToLowerInvariant().EndsWith("memory", StringComparison.Ordinal),
            $"storage {Storage} lives in one process: {Workers} worker processes need a sqlite:/// or postgresql:// storage");
        Need(KeepBest is null or >= 1, $"keep_best must be at least 1 (got {KeepBest})");
        Need(Timeout is null || Timeout > TimeSpan.Zero, "timeout must be positive (seconds)");
        Need(HeartbeatInterval > TimeSpan.Zero && GracePeriod > HeartbeatInterval, "grace_period must be longer than heartbeat_interval (seconds)");
        if (Job == "finetune")
        {
            Need(Model is not null, "model is required for job finetune (the model directory to fine-tune)");
            Need(Data is not null, "data is required for job finetune (the dialogues file)");
            Need(Directory.Exists(Model), $"model: {Model} is not a directory");
            Need(File.Exists(Data), $"data: {Data} not found");
            Need(ValData is null || File.Exists(ValData), $"val_data: {ValData} not found");
            Need(Objective == "val_loss" || ValData is not null || CvFolds is not null,
                $"objective {Objective} scores replies to held-out dialogues: give val_data (or cv_folds)");
        }
        else
        {
            Need(Model is null && Data is null && ValData is null, "job pretrain takes its data as data_dir in base (and an init_from there), not model/data/val_data");
            Need(Objective == "val_loss", $"objective {Objective} scores replies to dialogues: only job finetune has them; pretraining tunes val_loss");
        }
        if (CvFolds is { } k)
        {
            Need(Job == "finetune", "cv_folds applies to job finetune only: pretraining has no conversations to deal into folds");
            Need(k >= 2, $"cv_folds must be at least 2 (got {k})");
            const string why = "each fold validates on the conversations it holds out";
            Need(ValData is null, $"val_data does not apply with cv_folds: {why}");
            Need(!Base.ContainsKey("val_fraction"), $"base: val_fraction does not apply with cv_folds: {why}");
            Need(!SearchSpace.ContainsKey("val_fraction"), $"search_space: val_fraction does not apply with cv_folds: {why}");
            int n = DialogueReader.Read(Data!).Count;
            Need(k <= n, $"cv_folds {k} is more than the {n} conversation{(n == 1 ? "" : "s")} in data {Data}: every fold needs at least one to validate on");
        }
        // With cv_folds, the running mean of the objective is reported after each fold, whatever the objective.
        bool pruning = !(Pruner is JsonValue pv && pv.TryGetValue<string>(out var pn) && pn == "none");
        Need(!pruning || Objective == "val_loss" || CvFolds is not null,
            $"the pruner compares the val_loss each evaluation reports; with objective {Objective} use \"pruner\": \"none\" (or cv_folds)");

        var keys = Job == "finetune" ? OptionsLoader.KeysOf<FineTuningOptions>() : OptionsLoader.KeysOf<PretrainingOptions>();
        foreach (var (name, d) in SearchSpace)
        {
            // batch_size_schedule.end: one key inside an object option, checked by loading it below.
            if (!keys.ContainsKey(name) && !(name.IndexOf('.') is > 0 and var dot && keys.ContainsKey(name[..dot])))
            {
                var e = Job == "finetune" ? OptionsLoader.UnknownKeyError<FineTuningOptions>(name, null) : OptionsLoader.UnknownKeyError<PretrainingOptions>(name, null);
                throw new GptSharpException($"{source}: search_space: {e.Message}");
            }
            Need(!NotTunable.Contains(name), $"search_space: {name} is set by each trial, not tuned");
            IEnumerable<object?> probes = d switch
            {
                CategoricalDistribution c => c.Choices,
                FloatDistribution f => [f.Low, f.High],
                IntDistribution i => [i.Low, i.High],
                _ => [],
            };
            foreach (var value in probes)
            {
                try { LoadOptions([Override(name, value)], Path.GetTempPath()); }
                catch (GptSharpException e) { throw new GptSharpException($"{source}: search_space: {name} = {Format(value)}: {e.Message}"); }
            }
        }
        for (int i = 0; i < EnqueueTrials.Count; i++)
            foreach (var (name, value) in EnqueueTrials[i])
            {
                if (!SearchSpace.TryGetValue(name, out var d))
                    throw new GptSharpException($"{source}: enqueue_trials[{i}]: \"{name}\" is not in the search space ({string.Join(", ", SearchSpace.Keys)})");
                try { d.ToInternal(value); }
                catch (GptSharpException e) { throw new GptSharpException($"{source}: enqueue_trials[{i}]: \"{name}\": {e.Message}"); }
            }
        try { LoadOptions([], Path.GetTempPath()); }
        catch (GptSharpException e) { throw new GptSharpException($"{source}: base: {e.Message}"); }
    }

    /// <summary>The job's options for a trial: base, then the trial's parameters, then its run directory.</summary>
    public TrainingArguments LoadOptions(IEnumerable<string> parameters, string outputDir)
    {
        string[] overrides = [.. parameters, $"output_dir={outputDir}"];
        return Job == "finetune"
            ? OptionsLoader.Load<FineTuningOptions>(Base, "base", overrides).Validate()
            : OptionsLoader.Load<PretrainingOptions>(Base, "base", overrides).Validate();
    }

    /// <summary>One parameter as a <c>--set key=value</c> override.</summary>
    public static string Override(string name, object? value) => $"{name}={Format(value)}";

    /// <summary>A parameter value as the CLI writes it.</summary>
    public static string Format(object? value) => value switch
    {
        null => "null",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>The config as the study keeps it (absolute paths, the base inline): what <c>tune worker</c> reads back.</summary>
    public JsonObject ToJson()
    {
        var o = new JsonObject
        {
            ["job"] = Job, ["model"] = Model, ["data"] = Data, ["val_data"] = ValData, ["base"] = Base.DeepClone(),
            ["search_space"] = Tuning.SearchSpace.ToJson(SearchSpace), ["objective"] = Objective, ["direction"] = Direction.ToName(),
            ["n_trials"] = NTrials, ["timeout"] = Timeout?.TotalSeconds, ["sampler"] = Sampler.DeepClone(), ["pruner"] = Pruner.DeepClone(),
            ["storage"] = Storage, ["study_name"] = StudyName, ["output_dir"] = OutputDir, ["keep_best"] = KeepBest,
            ["heartbeat_interval"] = HeartbeatInterval.TotalSeconds, ["grace_period"] = GracePeriod.TotalSeconds,
            ["requeue_failed"] = RequeueFailed, ["workers"] = Workers, ["cv_folds"] = CvFolds,
            ["enqueue_trials"] = new JsonArray([.. EnqueueTrials.Select(t => (JsonNode)new JsonObject(t.Select(kv => KeyValuePair.Create(kv.Key, CategoricalDistribution.ToNode(kv.Value)))))]),
        };
        return o;
    }

    static JsonObject ReadBaseFile(string file, string source)
    {
        if (!File.Exists(file)) throw new GptSharpException($"{source}: base: {file} not found");
        try
        {
            return JsonNode.Parse(File.ReadAllText(file), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true }) as JsonObject
                ?? throw new GptSharpException($"{file}: expected a JSON object of training options");
        }
        catch (JsonException e)
        {
            throw new GptSharpException($"{file}:{e.LineNumber + 1}: invalid JSON ({e.Message.Split(" Path:")[0]})");
        }
    }

    /// <summary>sqlite:/// URLs with a relative path become absolute, so every worker of the study opens the same file.</summary>
    static string StorageUrl(string url)
    {
        const string prefix = "sqlite:///";
        if (!url.StartsWith(prefix, StringComparison.Ordinal) || url.StartsWith(prefix + "/", StringComparison.Ordinal)) return url;
        return prefix + Path.GetFullPath(url[prefix.Length..]);
    }

    static string? Full(string? path) => path is null ? null : Path.GetFullPath(path);

    static string? Str(JsonObject o, string key, string source) => o[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        _ => throw new GptSharpException($"{source}: {key}: expected a string"),
    };

    static int? Int(JsonObject o, string key, string source) => o[key] switch
    {
        null => null,
        JsonValue v when Distribution.TryNumber(v, out var d) && d == Math.Floor(d) && Math.Abs(d) < int.MaxValue => (int)d,
        _ => throw new GptSharpException($"{source}: {key}: expected an integer"),
    };

    static TimeSpan? Seconds(JsonObject o, string key, string source) => o[key] switch
    {
        null => null,
        JsonValue v when Distribution.TryNumber(v, out var d) && d > 0 && double.IsFinite(d) => TimeSpan.FromSeconds(d),
        _ => throw new GptSharpException($"{source}: {key}: expected a positive number of seconds"),
    };
}
