namespace GptSharp.Tuning.Jobs;

/// <summary>
/// One worker of a tuning study: runs trials of the config until the study holds n_trials (across all workers), the
/// timeout passes or it is cancelled. After each trial it rewrites the trials table and, with keep_best, deletes the
/// run directories of the other trials. A trial cut short by cancellation is failed and, with requeue_failed, enqueued
/// again, so running the command again repeats it.
/// </summary>
public static class TuneWorker
{
    public static async Task<int> RunAsync(TuneConfig config, Study study, Action<string>? log, CancellationToken ct)
    {
        Directory.CreateDirectory(config.OutputDir);
        int removed = RunDirectories.RemoveAbandoned(config, study);
        if (removed > 0) log?.Invoke($"removed {removed} partial run director{(removed == 1 ? "y" : "ies")} of trials whose worker stopped");
        var options = new OptimizeOptions
        {
            MaxTrials = config.NTrials,
            Timeout = config.Timeout,
            CatchExceptions = true,
            Callbacks =
            [
                (s, _) =>
                {
                    RunDirectories.RemoveAbandoned(config, s); // a dead worker's trial is failed by now, or soon after
                    if (config.KeepBest is { } keep) RunDirectories.KeepBest(config, s, keep);
                    TrialsTable.Write(s.Trials, config.OutputDir);
                },
            ],
        };
        try
        {
            int done = await study.OptimizeAsync((trial, token) => TrialRunner.RunAsync(config, trial, log, token), options, ct).ConfigureAwait(false);
            RunDirectories.RemoveAbandoned(config, study);
            return done;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            if (config.RequeueFailed)
                foreach (var t in study.GetTrials(TrialState.Fail).Where(t => t.SystemAttrs.GetValueOrDefault(StorageRules.FailReasonKey)?.Contains("cancel", StringComparison.OrdinalIgnoreCase) == true
                                                                         && !Requeued(study, t.Number)))
                    study.Storage.EnqueueTrial(study.Id, StorageRules.RequeueAttrs(t));
            TrialsTable.Write(study.Trials, config.OutputDir);
            throw;
        }
    }

    static bool Requeued(Study study, int number) =>
        study.Trials.Any(t => t.SystemAttrs.TryGetValue(FrozenTrial.RetriedFromKey, out var from) && from == number.ToString());
}
