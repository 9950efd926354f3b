using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace GptSharp.Tests.Cli;

/// <summary>
/// The real `gptsharp` executable started as a child process (the apphost next to the tests, or `dotnet
/// GptSharp.Cli.dll`), with its output collected, for what in-process runs cannot show: start-up, signals, exit codes,
/// and relative paths resolved from a working directory of its own (the test process's is process-wide).
/// </summary>
sealed partial class CliProcess : IDisposable
{
    readonly Process _process;
    readonly StringBuilder _out = new(), _err = new();

    public int Pid => _process.Id;
    public string Out { get { lock (_out) return _out.ToString(); } }
    public string Err { get { lock (_err) return _err.ToString(); } }
    /// <summary>The command's standard input; close it for end of input.</summary>
    public StreamWriter Input => _process.StandardInput;

    /// <summary>Runs one command to its end in <paramref name="workingDirectory"/>.</summary>
    public static async Task<(int Code, string Out, string Err)> Run(string workingDirectory, IEnumerable<string> args)
    {
        using var cli = new CliProcess(new Dictionary<string, string?>(), [.. args], workingDirectory);
        await cli._process.WaitForExitAsync();
        cli._process.WaitForExit(); // drains the output
        return (cli._process.ExitCode, cli.Out, cli.Err);
    }

    /// <param name="environment">Variables to set (a null value removes one).</param>
    public CliProcess(IReadOnlyDictionary<string, string?> environment, params string[] args) : this(environment, args, null) { }

    CliProcess(IReadOnlyDictionary<string, string?> environment, string[] args, string? workingDirectory)
    {
        string apphost = Path.Combine(AppContext.BaseDirectory, "GptSharp.Cli");
        string[] command = File.Exists(apphost) ? [apphost] : ["dotnet", Path.Combine(AppContext.BaseDirectory, "GptSharp.Cli.dll")];
        // Started in the background by a script, the test host ignores SIGINT and a child would inherit that (as
        // shells mean it to): coreutils' env gives the child the default disposition back and execs it (same PID).
        if (SigIntIgnored()) command = ["env", "--default-signal=INT", .. command];
        var psi = new ProcessStartInfo(command[0]);
        foreach (var a in command.Skip(1).Concat(args)) psi.ArgumentList.Add(a);
        psi.UseShellExecute = false;
        if (workingDirectory is not null) psi.WorkingDirectory = workingDirectory;
        psi.RedirectStandardOutput = psi.RedirectStandardError = true;
        psi.RedirectStandardInput = true;
        foreach (var (k, v) in environment)
            if (v is null) psi.Environment.Remove(k); else psi.Environment[k] = v;
        _process = new Process { StartInfo = psi };
        _process.OutputDataReceived += (_, e) => { if (e.Data is { } d) lock (_out) _out.AppendLine(d); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is { } d) lock (_err) _err.AppendLine(d); };
        _process.Start();
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Waits until stdout contains <paramref name="text"/>; false if the process ended or time ran out first.</summary>
    public bool WaitForOutput(string text, TimeSpan timeout)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < timeout)
        {
            if (Out.Contains(text, StringComparison.Ordinal)) return true;
            if (_process.HasExited)
            {
                _process.WaitForExit(); // drains the output, so that a failing test shows what the process last said
                return Out.Contains(text, StringComparison.Ordinal);
            }
            Thread.Sleep(50);
        }
        return false;
    }

    public void Signal(int signal) => Assert.Equal(0, Kill(Pid, signal));

    /// <summary>The exit code, or null if it is still running after <paramref name="timeout"/>.</summary>
    public int? WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout)) return null;
        _process.WaitForExit(); // drains the output
        return _process.ExitCode;
    }

    /// <summary>The environment this process's current image started with (after any in-place restart).</summary>
    public string[] Environment() => ReadNulSeparated($"/proc/{Pid}/environ");

    /// <summary>The ids of every running process whose command line mentions <paramref name="text"/>.</summary>
    public static int[] ProcessesMentioning(string text) =>
        [.. Directory.EnumerateDirectories("/proc")
            .Select(d => int.TryParse(Path.GetFileName(d), out int pid) ? pid : -1)
            .Where(pid => pid > 0 && ReadNulSeparated($"/proc/{pid}/cmdline").Any(a => a.Contains(text, StringComparison.Ordinal)))];

    static bool SigIntIgnored() =>
        File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal)) is { } line
        && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & (1UL << (2 - 1))) != 0;

    static string[] ReadNulSeparated(string path)
    {
        try { return File.ReadAllText(path).Split('\0', StringSplitOptions.RemoveEmptyEntries); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return []; } // gone meanwhile
    }

    public void Dispose()
    {
        try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
        _process.Dispose();
    }

    [LibraryImport("libc.so.6", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
