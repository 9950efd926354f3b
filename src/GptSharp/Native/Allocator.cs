using System.Diagnostics;
using System.Runtime.InteropServices;

namespace GptSharp.Native;

/// <summary>
/// glibc's malloc returns libtorch's large activation buffers to the kernel on free, so every training step
/// page-faults gigabytes back in (2–3× slower on our VMs). tcmalloc keeps them; it must be preloaded at process
/// start, so executables relaunch themselves once with LD_PRELOAD when Debian's libtcmalloc-minimal4 is there.
/// Otherwise, in-process <c>mallopt</c> (no mmap for big blocks, no trimming) recovers most of the loss.
/// Set GPTSHARP_ALLOCATOR=glibc to opt out of both.
/// </summary>
public static class Allocator
{
    const string RelaunchedVar = "GPTSHARP_RELAUNCHED";
    static readonly string[] TcmallocCandidates =
    [
        "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4", "/usr/lib/aarch64-linux-gnu/libtcmalloc_minimal.so.4",
        "/usr/lib64/libtcmalloc_minimal.so.4", "/usr/lib/libtcmalloc_minimal.so.4",
    ];

    /// <summary>"tcmalloc", "glibc+mallopt", "glibc" or another preloaded allocator's file name.</summary>
    public static string Current { get; private set; } = "glibc";

    static string? Preloaded() =>
        (Environment.GetEnvironmentVariable("LD_PRELOAD") ?? "").Split([':', ' '], StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(p => p.Contains("malloc", StringComparison.Ordinal));

    static bool OptedOut => Environment.GetEnvironmentVariable("GPTSHARP_ALLOCATOR") is "glibc";

    /// <summary>
    /// For an executable's Main: when tcmalloc is installed but not loaded, runs this same command again with it
    /// preloaded and returns its exit code; returns null when the current process should just go on.
    /// </summary>
    public static int? RelaunchWithTcmalloc(string[] args)
    {
        if (!OperatingSystem.IsLinux() || OptedOut || Preloaded() is not null
            || Environment.GetEnvironmentVariable(RelaunchedVar) is not null) return null;
        string? lib = TcmallocCandidates.FirstOrDefault(File.Exists);
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

    /// <summary>Called once by <see cref="TorchRuntime.Initialize"/>.</summary>
    internal static void Tune()
    {
        if (Preloaded() is { } p) { Current = p.Contains("tcmalloc") ? "tcmalloc" : Path.GetFileName(p); return; }
        if (!OperatingSystem.IsLinux() || OptedOut) return;
        try
        {
            Libc.MallOpt(Libc.M_MMAP_MAX, 0);                 // big blocks come from the heap, so they are reused
            Libc.MallOpt(Libc.M_TRIM_THRESHOLD, int.MaxValue); // and never handed back between steps
            Libc.MallOpt(Libc.M_TOP_PAD, 64 << 20);
            Current = "glibc+mallopt";
        }
        catch (EntryPointNotFoundException) { } // not glibc (musl): leave it alone
        catch (DllNotFoundException) { }
    }
}
