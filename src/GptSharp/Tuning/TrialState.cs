namespace GptSharp.Tuning;

/// <summary>
/// Where a trial is in its life, as Optuna's <c>TrialState</c>: <see cref="Waiting"/> (enqueued, not yet taken by a
/// worker), <see cref="Running"/>, then one of the finished states.
/// </summary>
public enum TrialState { Running, Complete, Pruned, Fail, Waiting }

/// <summary>Names and predicates of <see cref="TrialState"/>.</summary>
public static class TrialStateExtensions
{
    /// <summary>Complete, pruned or failed: the trial can no longer change.</summary>
    public static bool IsFinished(this TrialState state) => state is TrialState.Complete or TrialState.Pruned or TrialState.Fail;

    /// <summary>Lower-case name as storages, JSON and the CLI write it ("complete", "pruned", …).</summary>
    public static string ToName(this TrialState state) => state.ToString().ToLowerInvariant();

    /// <summary>Parses a lower-case state name; a clear error otherwise.</summary>
    public static TrialState Parse(string text) =>
        Enum.TryParse<TrialState>(text.Trim(), ignoreCase: true, out var s) && Enum.IsDefined(s)
            ? s
            : throw new GptSharpException($"unknown trial state \"{text}\" (expected running, complete, pruned, fail or waiting)");
}
