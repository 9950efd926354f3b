using System.Diagnostics;
using GptSharp.Native;

namespace GptSharp.Cli.Commands;

/// <summary>
/// Runs this program again as a child process (<see cref="SelfProcess"/>) to its end: its lines forwarded with a label,
/// a failure reported with the label and the child's last error line, cancellation (Ctrl+C) passed on as an interrupt.
/// Used where work needs a process of its own: cv's folds, compare's per-model measurements.
/// </summary>
static class ChildProcess
{
    /// <summary>How long an interrupted child may take to save a checkpoint before it is killed (the CLI's own limit is 2 minutes).</summary>
    static readonly TimeSpan InterruptGrace = TimeSpan.FromSeconds(90);

    public static async Task RunAsync(string label, IReadOnlyList<string> args, Action<string> output, Action<string> error, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        string prefix = $"[{label}] ";
        string? lastError = null;
        using var process = new Process { StartInfo = SelfProcess.StartInfo(args) };
        process.OutputDataReceived += (_, e) => { if (e.Data is { } line) output(prefix + line); };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not { } line) return;
            if (line.StartsWith("error: ", StringComparison.Ordinal)) lastError = line["error: ".Length..];
            error(prefix + line);
        };
        if (!process.Start()) throw new GptSharpException($"{label}: could not start a process");
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
        if (process.ExitCode == 130) throw new OperationCanceledException($"{label} was interrupted");
        if (process.ExitCode != 0)
            throw new GptSharpException($"{label} failed: {lastError ?? $"its process exited with code {process.ExitCode}"}");
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
