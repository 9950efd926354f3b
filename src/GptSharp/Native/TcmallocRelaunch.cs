using System.Diagnostics;
using System.Runtime.InteropServices;

namespace GptSharp.Native;

/// <summary>
/// Relaunches an executable with tcmalloc preloaded (see <c>Allocator</c>). This file is compiled into every
/// executable of the repo rather than into the library (Directory.Build.targets), so that deciding to relaunch touches
/// no GptSharp type: the parent process then never runs GptSharp's native set-up or loads libtorch.
/// The child dies with its parent (PR_SET_PDEATHSIG): `kill -9` of the PID the user sees must not leave a trainer
/// running on, unseen, still writing into its output directory.
/// </summary>
static partial class TcmallocRelaunch
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
        if (Environment.GetEnvironmentVariable(RelaunchedVar) is { } parent)
        {
            DieWithParent(parent);
            return null;
        }
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable("GPTSHARP_ALLOCATOR") is "glibc"
            || (Environment.GetEnvironmentVariable("LD_PRELOAD") ?? "").Contains("malloc", StringComparison.Ordinal)) return null;
        string? lib = Candidates.FirstOrDefault(File.Exists);
        string? exe = Environment.ProcessPath;
        if (lib is null || exe is null) return null;

        var psi = new ProcessStartInfo(exe) { UseShellExecute = false };
        // Under `dotnet app.dll` the host is the process and the app's path is the first argument.
        if (Path.GetFileNameWithoutExtension(exe) == "dotnet") psi.ArgumentList.Add(Environment.GetCommandLineArgs()[0]);
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["LD_PRELOAD"] = lib;
        psi.Environment[RelaunchedVar] = Environment.ProcessId.ToString(); // forked from this (main) thread, which outlives the child

        using var child = Process.Start(psi);
        if (child is null) return null;
        // Ctrl+C reaches the whole process group: let the child handle it and report its own exit code.
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => c.Cancel = true);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; try { child.Kill(); } catch (InvalidOperationException) { } });
        child.WaitForExit();
        return child.ExitCode;
    }

    /// <summary>In the relaunched child: be killed when the parent dies, and go at once if it already has.</summary>
    static void DieWithParent(string parent)
    {
        if (!OperatingSystem.IsLinux() || !int.TryParse(parent, out int parentPid) || parentPid <= 1) return; // "1": set by hand to skip the relaunch
        const int PR_SET_PDEATHSIG = 1, SIGKILL = 9;
        if (PrCtl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) == 0 && GetPPid() != parentPid) Environment.Exit(137);
    }

    [LibraryImport("libc.so.6", EntryPoint = "prctl")]
    private static partial int PrCtl(int option, nuint arg2, nuint arg3, nuint arg4, nuint arg5);

    [LibraryImport("libc.so.6", EntryPoint = "getppid")]
    private static partial int GetPPid();
}
