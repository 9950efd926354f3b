namespace GptSharp.Tuning;

/// <summary>
/// Heartbeats for studies run by workers that may die (Optuna's <c>heartbeat_interval</c>, <c>grace_period</c> and
/// <c>RetryFailedTrialCallback</c>): a worker records a heartbeat every <see cref="Interval"/> while its trial runs;
/// any worker about to start a trial first fails the running trials whose heartbeat is older than
/// <see cref="Grace"/>, and with <see cref="Requeue"/> enqueues each again with the same parameters.
/// </summary>
public sealed record HeartbeatOptions(TimeSpan Interval, TimeSpan? GracePeriod = null, bool Requeue = false)
{
    /// <summary>The grace period: <see cref="GracePeriod"/>, or twice the interval as in Optuna.</summary>
    public TimeSpan Grace => GracePeriod ?? Interval * 2;
}
