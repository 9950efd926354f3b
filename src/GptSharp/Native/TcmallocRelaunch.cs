using System.Diagnostics;
using System.Runtime.InteropServices;

namespace GptSharp.Native;

/// <summary>
/// Relaunches an executable with tcmalloc preloaded (see <c>Allocator</c>). This file is compiled into every
/// executable of the repo rather than into the library (Directory.Build.targets), so that deciding to relaunch touches
/// no GptSharp type: the parent process then never runs GptSharp's native set-up or loads libtorch.
/// </summary>
static class TcmallocRelaunch
{
    const string RelaunchedVar = "GPTSHARP_RELAUNCHED";
    static readonly string[] Candidates =
    [
        "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4", "/usr/lib/aarch64-linux-gnu/libtcmalloc_minimal.so.4",
        "/usr/lib64/libtcmalloc_minimal.so.4", "/usr/lib/libtcmalloc_minimal.so.4",
    ];

    /// <summary>
    /// When tcmalloc is installed but not loaded, runs this same command again with it preloaded and returns its exit
    /// code; returns null when the current process should just go on. GPTSHARP_ALLOCATOR=glibc opts out.
    /// </summary>
    public static int? Run(string[] args)
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("GPTSHARP_ALLOCATOR") is "glibc"
            || (Environment.GetEnvironmentVariable("LD_PRELOAD") ?? "").Contains("malloc", StringComparison.Ordinal)
            || Environment.GetEnvironmentVariable(RelaunchedVar) is not null) return null;
        string? lib = Candidates.FirstOrDefault(File.Exists);
        string? exe = Environment.ProcessPath;
        if (lib is null || exe is null) return null;

        var psi = new ProcessStartInfo(exe) { UseShellExecute = false };
        // Under `dotnet app.dll` the host is the process and the app's path is the first argument.
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet") psi.ArgumentList.Add(Environment.GetCommandLineArgs()[0]);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["LD_PRELOAD"] = lib;
        psi.Environment[RelaunchedVar] = "1";

        using var child = Process.Start(psi);
        if (child is null) return null;
        // Ctrl+C reaches the whole process group: let the child handle it and report its own exit code.
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => c.Cancel = true);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; try { child.Kill(); } catch (InvalidOperationException) { } });
        child.WaitForExit();
        return child.ExitCode;
    }
}
