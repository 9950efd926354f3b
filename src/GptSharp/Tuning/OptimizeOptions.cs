namespace GptSharp.Tuning;

/// <summary>When <see cref="Study.OptimizeAsync"/> stops, and what it does with a failing objective.</summary>
public sealed record OptimizeOptions
{
    /// <summary>Trials this call runs (Optuna's <c>n_trials</c>); null: no limit.</summary>
    public int? Trials { get; init; }
    /// <summary>
    /// The study's budget across all workers: no new trial once the study holds this many running, complete or pruned
    /// trials (Optuna's <c>MaxTrialsCallback</c>, but decided inside the storage's transaction, so workers never overshoot).
    /// </summary>
    public int? MaxTrials { get; init; }
    /// <summary>No new trial after this much time (a running one finishes).</summary>
    public TimeSpan? Timeout { get; init; }
    /// <summary>Record a throwing objective as failed and go on, instead of rethrowing (Optuna's <c>catch</c>).</summary>
    public bool CatchExceptions { get; init; }
    /// <summary>Called after each trial this call ran has finished, with the trial as stored (Optuna's <c>callbacks</c>).</summary>
    public IReadOnlyList<Action<Study, FrozenTrial>> Callbacks { get; init; } = [];
}
