namespace GptSharp.Tuning;

/// <summary>How <see cref="ITrialStorage.StartTrial"/> starts a trial.</summary>
/// <param name="Worker">Who runs it (host:pid), kept with the trial.</param>
/// <param name="MaxTrials">The study's budget: no new trial once this many are running, complete or pruned.</param>
/// <param name="OnlyWaiting">Take only an enqueued trial (a grid); never create one.</param>
/// <param name="Heartbeat">Record a first heartbeat, so the trial is failed when its worker stops beating.</param>
public sealed record TrialStart(string Worker, int? MaxTrials = null, bool OnlyWaiting = false, bool Heartbeat = false);
