namespace GptSharp.Tuning;

/// <summary>
/// Decides from the values trials reported (<see cref="Trial.Report"/>) whether a running trial should stop early
/// (Optuna's <c>BasePruner</c>). The trial given carries its intermediate values up to now.
/// </summary>
public interface IPruner
{
    /// <summary>Whether <paramref name="trial"/> should be pruned now.</summary>
    bool Prune(Study study, FrozenTrial trial);
}
