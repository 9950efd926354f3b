using System.Diagnostics;
using GptSharp.Native;
using GptSharp.Training.Advisors;

namespace GptSharp.Cli.Commands;

/// <summary>One fold to run in a child process: its label in the log, its run directory and the child's arguments.</summary>
sealed record FoldJob(string Label, string FoldDir, IReadOnlyList<string> Args);

/// <summary>
/// Runs cv's folds in child processes, up to N at a time: processes, not threads, because torch's random generator is
/// process-wide and each fold must draw exactly what it draws when run alone. Each child's lines are forwarded with
/// its label; its result comes back as the fold's <see cref="FoldResultFile"/>. The first failure stops the others
/// and is reported with the fold's label and the child's error; cancellation (Ctrl+C) interrupts every child.
/// </summary>
static class FoldProcesses
{
    /// <summary>How long an interrupted child may take to save a checkpoint before it is killed (the CLI's own limit is 2 minutes).</summary>
    static readonly TimeSpan InterruptGrace = TimeSpan.FromSeconds(90);

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
        ct.ThrowIfCancellationRequested();
        string prefix = $"[{job.Label}] ";
        string? lastError = null;
        using var process = new Process { StartInfo = SelfProcess.StartInfo(job.Args) };
        process.OutputDataReceived += (_, e) => { if (e.Data is { } line) output(prefix + line); };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not { } line) return;
            if (line.StartsWith("error: ", StringComparison.Ordinal)) lastError = line["error: ".Length..];
            error(prefix + line);
        };
        if (!process.Start()) throw new GptSharpException($"{job.Label}: could not start a process");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try { await process.WaitForExitAsync(ct).ConfigureAwait(false); }
        catch (OperationCanceledException)
        {
            await StopAsync(process).ConfigureAwait(false);
            throw;
        }
        process.WaitForExit(); // drains the output
        // 130: the child was interrupted (Ctrl+C in a terminal reaches every process of the group, maybe before this one's token).
        if (process.ExitCode == 130) throw new OperationCanceledException($"{job.Label} was interrupted");
        if (process.ExitCode != 0)
            throw new GptSharpException($"{job.Label} failed: {lastError ?? $"its process exited with code {process.ExitCode}"}");
        try { return FoldResultFile.Read(job.FoldDir); }
        catch (GptSharpException e) { throw new GptSharpException($"{job.Label}: {e.Message}"); }
    }

    /// <summary>Asks a child to stop as Ctrl+C would (it saves a checkpoint), and kills it if it does not in time.</summary>
    static async Task StopAsync(Process process)
    {
        if (process.HasExited) return;
        if (ProcessSignals.Interrupt(process.Id))
        {
            using var grace = new CancellationTokenSource(InterruptGrace);
            try
            {
                await process.WaitForExitAsync(grace.Token).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) { }
        }
        try { process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { } // exited meanwhile
        await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
    }
}
