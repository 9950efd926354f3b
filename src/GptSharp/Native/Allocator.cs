using System.Runtime.InteropServices;

namespace GptSharp.Native;

/// <summary>
/// glibc's malloc returns libtorch's large activation buffers to the kernel on free, so every training step
/// page-faults gigabytes back in (2–3× slower on our VMs). tcmalloc keeps them; it must be preloaded at process
/// start, so executables relaunch themselves once with LD_PRELOAD when Debian's libtcmalloc-minimal4 is there
/// (<c>TcmallocRelaunch.cs</c>, compiled into each executable so the parent never loads libtorch).
/// Otherwise, in-process <c>mallopt</c> (no mmap for big blocks, no trimming) recovers most of the loss.
/// Set GPTSHARP_ALLOCATOR=glibc to opt out of both.
/// </summary>
public static class Allocator
{
    /// <summary>"tcmalloc", "glibc+mallopt", "glibc" or another preloaded allocator's file name.</summary>
    public static string Current { get; private set; } = "glibc";

    static string? Preloaded() =>
        (Environment.GetEnvironmentVariable("LD_PRELOAD") ?? "").Split([':', ' '], StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(p => p.Contains("malloc", StringComparison.Ordinal));

    static bool OptedOut => Environment.GetEnvironmentVariable("GPTSHARP_ALLOCATOR") is "glibc";

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

    /// <summary>
    /// Hands memory freed in bulk (say, a model's float weights) back to the kernel. Neither allocator does so by
    /// itself here: tcmalloc keeps freed pages for reuse, and glibc was told not to trim.
    /// </summary>
    public static void ReturnFreeMemory()
    {
        if (!OperatingSystem.IsLinux()) return;
        try
        {
            if (Current == "tcmalloc")
            {
                nint global = Libc.DlOpen(null, Libc.RTLD_LAZY);
                if (global != 0 && NativeLibrary.TryGetExport(global, "MallocExtension_ReleaseFreeMemory", out nint fn))
                    unsafe { ((delegate* unmanaged<void>)fn)(); }
            }
            else if (Current.StartsWith("glibc", StringComparison.Ordinal)) Libc.MallocTrim(0);
        }
        catch (EntryPointNotFoundException) { }
        catch (DllNotFoundException) { }
    }
}
