using GptSharp.Training.Advisors;

namespace GptSharp.Cli.Commands;

/// <summary>One fold to run in a child process: its label in the log, its run directory and the child's arguments.</summary>
sealed record FoldJob(string Label, string FoldDir, IReadOnlyList<string> Args);

/// <summary>
/// Runs cv's folds in child processes, up to N at a time: processes, not threads, because torch's random generator is
/// process-wide and each fold must draw exactly what it draws when run alone. Each child runs as a <see cref="ChildProcess"/>;
/// its result comes back as the fold's <see cref="FoldResultFile"/>. The first failure stops the others.
/// </summary>
static class FoldProcesses
{
    public static async Task<IReadOnlyList<FoldResult>> RunAsync(IReadOnlyList<FoldJob> jobs, int parallel, Action<string> output, Action<string> error,
        CancellationToken ct)
    {
        var results = new FoldResult[jobs.Count];
        using var gate = new SemaphoreSlim(parallel);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        Exception? first = null;
        var tasks = jobs.Select(async (job, i) =>
        {
            try
            {
                await gate.WaitAsync(stop.Token).ConfigureAwait(false);
                try { results[i] = await RunOneAsync(job, output, error, stop.Token).ConfigureAwait(false); }
                finally { gate.Release(); }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested) { } // stopped by Ctrl+C or another fold's failure
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref first, e, null);
                stop.Cancel();
            }
        }).ToArray();
        await Task.WhenAll(tasks).ConfigureAwait(false);
        if (first is not null) throw first;
        ct.ThrowIfCancellationRequested();
        return results;
    }

    static async Task<FoldResult> RunOneAsync(FoldJob job, Action<string> output, Action<string> error, CancellationToken ct)
    {
        await ChildProcess.RunAsync(job.Label, job.Args, output, error, ct).ConfigureAwait(false);
        try { return FoldResultFile.Read(job.FoldDir); }
        catch (GptSharpException e) { throw new GptSharpException($"{job.Label}: {e.Message}"); }
    }
}
