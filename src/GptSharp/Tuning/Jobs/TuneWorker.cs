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
        int? current = null;
        try
        {
            int done = await study.OptimizeAsync((trial, token) =>
            {
                current = trial.Number;
                return TrialRunner.RunAsync(config, trial, log, token);
            }, options, ct).ConfigureAwait(false);
            RunDirectories.RemoveAbandoned(config, study);
            return done;
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // The trial this worker was running has just been failed by the cancellation: run it again next time.
            if (config.RequeueFailed && current is { } number && study.Storage.GetTrial(study.Id, number) is { State: TrialState.Fail } cut)
                study.Storage.EnqueueTrial(study.Id, StorageRules.RequeueAttrs(cut));
            TrialsTable.Write(study.Trials, config.OutputDir);
            throw;
        }
    }
}
