namespace GptSharp.Tuning.Pruners;

/// <summary>
/// Prunes a trial whose best value so far is worse than the median of the complete trials' values at the same step
/// (Optuna's <c>MedianPruner</c>: a <see cref="PercentilePruner"/> at 50, the same defaults).
/// </summary>
public sealed class MedianPruner(int nStartupTrials = 5, int nWarmupSteps = 0, int intervalSteps = 1, int nMinTrials = 1)
    : PercentilePruner(50, nStartupTrials, nWarmupSteps, intervalSteps, nMinTrials);
