using System.Text.Json.Nodes;
using GptSharp.Tuning.Pruners;
using GptSharp.Tuning.Samplers;
using GptSharp.Tuning.Storages;

namespace GptSharp.Tuning.Jobs;

/// <summary>
/// Samplers and pruners by name, as tune.json and the CLI give them: a name (<c>"tpe"</c>) or an object with
/// <c>"type"</c> and the options in Optuna's names (<c>{"type": "tpe", "multivariate": true, "constant_liar": true}</c>).
/// </summary>
public static class TuningComponents
{
    public static readonly string[] Samplers = ["tpe", "random", "grid"];
    public static readonly string[] Pruners = ["none", "median", "asha", "successive_halving", "hyperband"];

    /// <summary>
    /// The sampler of a spec. <paramref name="seed"/> applies when the spec has none; with several
    /// <paramref name="workers"/>, TPE's constant liar is on unless the spec says otherwise.
    /// </summary>
    public static ISampler CreateSampler(JsonNode? spec, int seed, IReadOnlyDictionary<string, Distribution> searchSpace, int workers = 1)
    {
        var (type, o) = Read(spec, "tpe", "sampler", Samplers);
        var keys = new Keys(o, "sampler", type);
        ISampler sampler = type switch
        {
            "random" => new RandomSampler(keys.Int("seed") ?? seed),
            "grid" => GridSampler.FromSearchSpace(searchSpace, keys.Int("seed") ?? seed),
            _ => new TpeSampler(new TpeOptions
            {
                Seed = keys.Int("seed") ?? seed,
                StartupTrials = keys.Int("n_startup_trials") ?? 10,
                EiCandidates = keys.Int("n_ei_candidates") ?? 24,
                Multivariate = keys.Bool("multivariate") ?? false,
                ConstantLiar = keys.Bool("constant_liar") ?? workers > 1,
                PriorWeight = keys.Double("prior_weight") ?? 1.0,
                ConsiderMagicClip = keys.Bool("consider_magic_clip") ?? true,
                ConsiderEndpoints = keys.Bool("consider_endpoints") ?? false,
            }),
        };
        keys.CheckAllRead();
        return sampler;
    }

    /// <summary>The pruner of a spec; null for "none".</summary>
    public static IPruner? CreatePruner(JsonNode? spec)
    {
        var (type, o) = Read(spec, "none", "pruner", Pruners);
        var keys = new Keys(o, "pruner", type);
        IPruner? pruner;
        try
        {
            pruner = type switch
            {
                "none" => null,
                "median" => new MedianPruner(keys.Int("n_startup_trials") ?? 5, keys.Int("n_warmup_steps") ?? 0, keys.Int("interval_steps") ?? 1, keys.Int("n_min_trials") ?? 1),
                "hyperband" => new HyperbandPruner(keys.Int("min_resource") ?? 1, keys.Int("max_resource"), keys.Int("reduction_factor") ?? 3, keys.Int("bootstrap_count") ?? 0),
                _ => new SuccessiveHalvingPruner(keys.Int("min_resource"), keys.Int("reduction_factor") ?? 4, keys.Int("min_early_stopping_rate") ?? 0, keys.Int("bootstrap_count") ?? 0),
            };
        }
        catch (ArgumentException e)
        {
            throw new GptSharpException($"pruner {type}: {e.Message}");
        }
        keys.CheckAllRead();
        return pruner;
    }

    /// <summary>Opens a storage URL (see <see cref="TrialStorages.Open"/>).</summary>
    public static ITrialStorage OpenStorage(string url) => TrialStorages.Open(url);

    static (string Type, JsonObject Options) Read(JsonNode? spec, string fallback, string what, string[] names)
    {
        string type;
        JsonObject o;
        switch (spec)
        {
            case null: return (fallback, new JsonObject());
            case JsonValue v when v.TryGetValue<string>(out var s): type = s; o = new JsonObject(); break;
            case JsonObject obj when obj["type"] is JsonValue t && t.TryGetValue<string>(out var s2): type = s2; o = obj; break;
            default: throw new GptSharpException($"{what}: expected a name ({string.Join(", ", names)}) or an object with \"type\"");
        }
        type = type.Trim().ToLowerInvariant();
        if (!names.Contains(type))
        {
            var close = NameSuggestions.Closest(type, names);
            throw new GptSharpException($"unknown {what} \"{type}\"" + (close.Count > 0 ? $" (did you mean {close[0]}?)" : "") + $"; expected one of {string.Join(", ", names)}");
        }
        return (type, o);
    }

    sealed class Keys(JsonObject o, string what, string type)
    {
        readonly HashSet<string> _read = ["type"];

        public int? Int(string key) => Get(key, n => Distribution.TryNumber(n, out var d) && d == Math.Floor(d) && Math.Abs(d) < int.MaxValue ? (int)d : (int?)null, "an integer");
        public double? Double(string key) => Get(key, n => Distribution.TryNumber(n, out var d) ? d : (double?)null, "a number");
        public bool? Bool(string key) => Get(key, n => n is JsonValue v && v.TryGetValue<bool>(out var b) ? b : (bool?)null, "true or false");

        T? Get<T>(string key, Func<JsonNode, T?> read, string expected) where T : struct
        {
            _read.Add(key);
            if (o[key] is not { } node) return null;
            return read(node) ?? throw new GptSharpException($"{what} {type}: {key}: expected {expected}");
        }

        public void CheckAllRead()
        {
            foreach (var (key, _) in o)
                if (!_read.Contains(key))
                    throw new GptSharpException($"{what} {type}: unknown option \"{key}\" (it takes {string.Join(", ", _read.Where(k => k != "type"))})");
        }
    }
}
