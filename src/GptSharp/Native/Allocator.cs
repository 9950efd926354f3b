using System.Runtime.InteropServices;

namespace GptSharp.Native;

/// <summary>
/// glibc's malloc returns libtorch's large activation buffers to the kernel on free, so every training step
/// page-faults gigabytes back in (2–3× slower on our VMs). Allocators must be chosen at process start, so every
/// executable restarts itself once, in place, before Main (<c>AllocatorRelaunch.cs</c>, compiled into each executable):
/// with Debian's libtcmalloc-minimal4 preloaded when it is installed, else with glibc tuned through GLIBC_TUNABLES.
/// A process that was not restarted that way (a library user, a test host) gets in-process <c>mallopt</c> tuning.
/// GPTSHARP_ALLOCATOR=glibc skips tcmalloc; GPTSHARP_ALLOCATOR=stock leaves the allocator alone.
/// </summary>
public static class Allocator
{
    /// <summary>"tcmalloc", "glibc+tunables", "glibc+mallopt", "glibc" or another preloaded allocator's file name.</summary>
    public static string Current { get; private set; } = "glibc";

    /// <summary>How <see cref="Current"/> came about, for <c>--verbose</c> and benchmark reports.</summary>
    public static string Detail { get; private set; } = "";

    static string? Preloaded() =>
        (Environment.GetEnvironmentVariable("LD_PRELOAD") ?? "").Split([':', ' '], StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(p => p.Contains("malloc", StringComparison.Ordinal));

    /// <summary>Called once by <see cref="TorchRuntime.Initialize"/>.</summary>
    internal static void Tune()
    {
        string? relaunched = Environment.GetEnvironmentVariable("GPTSHARP_RELAUNCHED");
        string how = relaunched is "tcmalloc" or "glibc" ? "restarted in place at start-up"
            : AppContext.GetData("GptSharp.AllocatorRelaunch") as string ?? "not restarted";
        if (Preloaded() is { } p)
        {
            Current = p.Contains("tcmalloc") ? "tcmalloc" : Path.GetFileName(p);
            Detail = $"LD_PRELOAD={p}; {how}";
            return;
        }
        if (!OperatingSystem.IsLinux()) return;
        if (Environment.GetEnvironmentVariable("GPTSHARP_ALLOCATOR") is "stock") { Detail = "GPTSHARP_ALLOCATOR=stock"; return; }
        if (Environment.GetEnvironmentVariable("GLIBC_TUNABLES") is { } t && t.Contains("glibc.malloc.", StringComparison.Ordinal))
        {
            Current = "glibc+tunables";
            Detail = $"GLIBC_TUNABLES={t}; {how}";
            return;
        }
        try
        {
            Libc.MallOpt(Libc.M_MMAP_MAX, 0);                 // big blocks come from the heap, so they are reused
            Libc.MallOpt(Libc.M_TRIM_THRESHOLD, int.MaxValue); // and never handed back between steps
            Libc.MallOpt(Libc.M_TOP_PAD, 64 << 20);
            Current = "glibc+mallopt";
            Detail = $"mallopt in-process; {how}";
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
