namespace GptSharp.Tuning;

/// <summary>
/// Thrown by an objective when <see cref="Trial.ShouldPrune"/> says so (Optuna's <c>TrialPruned</c>):
/// <see cref="Study.Optimize(Func{Trial, double}, int?, TimeSpan?, CancellationToken)"/> records the trial as pruned
/// with its last reported value.
/// </summary>
public sealed class TrialPrunedException(string? message = null) : Exception(message ?? "the trial was pruned");
