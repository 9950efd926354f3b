using System.Diagnostics;

namespace GptSharp.Tests.Cli;

/// <summary>
/// Runs the built `gptsharp` (GptSharp.Cli, copied next to the tests) as a child process in a given working directory:
/// for commands whose relative paths must resolve somewhere other than the test process's (process-wide) current directory.
/// </summary>
static class CliProcess
{
    public static async Task<(int Code, string Out, string Err)> Run(string workingDirectory, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "GptSharp.Cli.exe" : "GptSharp.Cli"))
        {
            WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start GptSharp.Cli");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await output, await error);
    }
}
