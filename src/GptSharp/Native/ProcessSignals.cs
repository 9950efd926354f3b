namespace GptSharp.Native;

/// <summary>Signals for child processes that .NET's <c>Process</c> cannot send (its Kill is SIGKILL only).</summary>
public static class ProcessSignals
{
    /// <summary>
    /// Sends SIGINT, which a gptsharp process treats as Ctrl+C: it saves a checkpoint and exits. False where there are
    /// no signals (Windows) or the process is gone.
    /// </summary>
    public static bool Interrupt(int pid) => !OperatingSystem.IsWindows() && Libc.Kill(pid, Libc.SIGINT) == 0;
}
