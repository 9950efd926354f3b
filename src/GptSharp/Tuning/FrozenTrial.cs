namespace GptSharp.Tuning;

/// <summary>
/// A trial as a storage holds it, read-only (Optuna's <c>FrozenTrial</c>). <see cref="Number"/> counts from 0 within
/// its study; <see cref="Id"/> is the storage's key. Parameters are kept in their internal form
/// (<see cref="InternalParams"/>, see <see cref="Distribution"/>); <see cref="Params"/> gives the user's values.
/// Attribute values are JSON texts.
/// </summary>
public sealed record FrozenTrial(
    long Id,
    int Number,
    TrialState State,
    double? Value,
    IReadOnlyDictionary<string, Distribution> Distributions,
    IReadOnlyDictionary<string, double> InternalParams,
    IReadOnlyDictionary<int, double> IntermediateValues,
    IReadOnlyDictionary<string, string> UserAttrs,
    IReadOnlyDictionary<string, string> SystemAttrs,
    DateTimeOffset? Started,
    DateTimeOffset? Completed)
{
    /// <summary>The parameters as the objective saw them (double, long or a categorical choice), in the order suggested.</summary>
    public IReadOnlyDictionary<string, object?> Params =>
        InternalParams.ToDictionary(p => p.Key, p => Distributions[p.Key].ToExternal(p.Value));

    /// <summary>The last step reported, or null when none was.</summary>
    public int? LastStep => IntermediateValues.Count == 0 ? null : IntermediateValues.Keys.Max();

    /// <summary>How long it ran (null while running or waiting).</summary>
    public TimeSpan? Duration => Started is { } s && Completed is { } c ? c - s : null;

    /// <summary>The system attribute that holds an enqueued trial's fixed parameters (JSON object of user values).</summary>
    public const string FixedParamsKey = "fixed_params";

    /// <summary>The system attribute of a re-queued trial: the number of the failed trial it repeats.</summary>
    public const string RetriedFromKey = "retried_from";
}
