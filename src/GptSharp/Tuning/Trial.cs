using System.Text.Json;
using System.Text.Json.Nodes;

namespace GptSharp.Tuning;

/// <summary>
/// One evaluation of the objective, as the objective sees it (Optuna's <c>Trial</c>): it suggests parameters, reports
/// intermediate values and asks whether it should stop. Every suggestion is recorded in the storage at once, so a trial
/// whose worker dies keeps what it had drawn. A parameter suggested twice returns the same value.
/// </summary>
public sealed class Trial
{
    readonly Study _study;
    readonly Dictionary<string, Distribution> _distributions;
    readonly Dictionary<string, double> _params;
    readonly SortedDictionary<int, double> _intermediate;
    readonly Dictionary<string, string> _userAttrs;
    readonly Dictionary<string, string> _systemAttrs;
    readonly IReadOnlyDictionary<string, JsonNode?> _fixed;
    readonly IReadOnlyDictionary<string, Distribution> _relativeSpace;
    readonly IReadOnlyDictionary<string, double> _relative;
    readonly DateTimeOffset? _started;

    internal Trial(Study study, FrozenTrial frozen)
    {
        _study = study;
        Id = frozen.Id;
        Number = frozen.Number;
        _started = frozen.Started;
        _distributions = new(frozen.Distributions);
        _params = new(frozen.InternalParams);
        _intermediate = new(frozen.IntermediateValues.ToDictionary());
        _userAttrs = new(frozen.UserAttrs);
        _systemAttrs = new(frozen.SystemAttrs);
        _fixed = frozen.SystemAttrs.TryGetValue(FrozenTrial.FixedParamsKey, out var json) && JsonNode.Parse(json) is JsonObject o
            ? o.ToDictionary(p => p.Key, p => p.Value)
            : new Dictionary<string, JsonNode?>();
        _relativeSpace = study.Sampler.InferRelativeSearchSpace(study, Frozen);
        _relative = _relativeSpace.Count == 0 ? new Dictionary<string, double>() : study.Sampler.SampleRelative(study, Frozen, _relativeSpace);
    }

    public long Id { get; }
    /// <summary>0, 1, 2, … within the study.</summary>
    public int Number { get; }
    public Study Study => _study;

    /// <summary>The parameters suggested so far, as the objective received them.</summary>
    public IReadOnlyDictionary<string, object?> Params => _params.ToDictionary(p => p.Key, p => _distributions[p.Key].ToExternal(p.Value));

    /// <summary>The values reported so far, by step.</summary>
    public IReadOnlyDictionary<int, double> IntermediateValues => _intermediate;

    /// <summary>The user attributes (JSON texts).</summary>
    public IReadOnlyDictionary<string, string> UserAttrs => _userAttrs;

    /// <summary>The trial as samplers and pruners see it now: running, with what it has drawn and reported.</summary>
    public FrozenTrial Frozen => new(Id, Number, TrialState.Running, null, new Dictionary<string, Distribution>(_distributions),
        new Dictionary<string, double>(_params), new Dictionary<int, double>(_intermediate), new Dictionary<string, string>(_userAttrs),
        new Dictionary<string, string>(_systemAttrs), _started, null);

    /// <summary>A real parameter in [low, high], on a log scale or a grid of <paramref name="step"/> (Optuna's <c>suggest_float</c>).</summary>
    public double SuggestFloat(string name, double low, double high, bool log = false, double? step = null) =>
        (double)Suggest(name, Make(name, () => new FloatDistribution(low, high, log, step)))!;

    /// <summary>An integer parameter in [low, high], every <paramref name="step"/>-th or on a log scale (Optuna's <c>suggest_int</c>).</summary>
    public int SuggestInt(string name, int low, int high, int step = 1, bool log = false) =>
        checked((int)(long)Suggest(name, Make(name, () => new IntDistribution(low, high, log, step)))!);

    /// <summary>One of <paramref name="choices"/> (Optuna's <c>suggest_categorical</c>): strings, numbers, booleans.</summary>
    public T SuggestCategorical<T>(string name, IReadOnlyList<T> choices)
    {
        var d = Make(name, () => new CategoricalDistribution([.. choices.Select(c => (object?)c)]));
        int index = (int)SuggestInternal(name, d);
        return choices[index];
    }

    /// <summary>A parameter from any distribution (a search space read from JSON), as the user's value.</summary>
    public object? Suggest(string name, Distribution distribution) => distribution.ToExternal(SuggestInternal(name, distribution));

    double SuggestInternal(string name, Distribution distribution)
    {
        if (_params.TryGetValue(name, out var had))
        {
            Distribution.CheckCompatible(name, _distributions[name], distribution);
            if (distribution.Contains(had)) return had;
            throw new GptSharpException($"parameter \"{name}\" was already suggested in trial {Number} as {_distributions[name].ToExternal(had)}, outside {distribution.ToJsonString()}");
        }
        double value;
        if (_fixed.TryGetValue(name, out var fixedValue))
        {
            try { value = distribution.ToInternal(Study.FromNode(fixedValue)); }
            catch (GptSharpException e) { throw new GptSharpException($"trial {Number}: the enqueued value of \"{name}\" does not fit: {e.Message}"); }
        }
        else if (_relative.TryGetValue(name, out var r) && _relativeSpace.TryGetValue(name, out var rd) && rd.Equals(distribution))
            value = r;
        else if (distribution.IsSingle)
            value = distribution switch { FloatDistribution f => f.Low, IntDistribution i => i.Low, _ => 0 };
        else
            value = _study.Sampler.SampleIndependent(_study, Frozen, name, distribution);
        _study.Storage.SetTrialParam(Id, name, distribution, value);
        _distributions[name] = distribution;
        _params[name] = value;
        return value;
    }

    /// <summary>
    /// Records the objective's value at <paramref name="step"/> (e.g. the validation loss at an evaluation), for the
    /// pruner and the report. A non-finite value (a diverged run) is kept as the worst possible one.
    /// </summary>
    public void Report(int step, double value)
    {
        if (step < 0) throw new GptSharpException($"a reported step must be >= 0, got {step}");
        if (!double.IsFinite(value)) value = _study.Direction == StudyDirection.Minimize ? double.MaxValue : double.MinValue;
        _study.Storage.SetTrialIntermediateValue(Id, step, value);
        _intermediate[step] = value;
    }

    /// <summary>Whether the study's pruner wants this trial stopped now; the objective then throws <see cref="TrialPrunedException"/>.</summary>
    public bool ShouldPrune() => _study.Pruner?.Prune(_study, Frozen) ?? false;

    /// <summary>Sets a user attribute (any JSON-serialisable value).</summary>
    public void SetUserAttr(string key, object? value)
    {
        string json = JsonSerializer.Serialize(value);
        _study.Storage.SetTrialUserAttr(Id, key, json);
        _userAttrs[key] = json;
    }

    internal void SetSystemAttrQuietly(string key, string text)
    {
        string json = JsonSerializer.Serialize(text);
        try { _study.Storage.SetTrialSystemAttr(Id, key, json); _systemAttrs[key] = json; }
        catch (GptSharpException) { } // the trial was already failed as stale: the reason is lost, nothing else
    }

    static Distribution Make(string name, Func<Distribution> make)
    {
        try { return make(); }
        catch (ArgumentException e) { throw new GptSharpException($"parameter \"{name}\": {e.Message}"); }
    }
}
