using System.Runtime.InteropServices;

namespace GptSharp.Native;

/// <summary>
/// 2 MiB pages for the big buffers decoding streams every token (weights, KV cache). With 4 KiB pages one pass over
/// GPT-2's 500 MB of float weights touches 120,000 pages, far beyond the TLB, and in a virtual machine each miss walks
/// two page tables: paired in one process, fp32 decoding steps ran 1–8 % faster from 2 MiB pages (medians; bench/README.md).
/// Linux's transparent huge pages back memory marked <c>MADV_HUGEPAGE</c> (its default <c>madvise</c> mode) with 2 MiB
/// pages. <see cref="Allocate"/> marks the buffers the onnx engine owns; libtorch marks its own allocations of 2 MiB and
/// more when <c>THP_MEM_ALLOC_ENABLE</c> is set, which <see cref="EnableForTorch"/> does before libtorch loads in
/// processes that only decode (<see cref="TorchRuntime.HugePageTensorsSwitch"/>): training allocates and frees such
/// tensors every step, and huge pages compact memory when they are first touched. <c>GPTSHARP_HUGE_PAGES=0</c> turns
/// all of it off. Elsewhere, or where the kernel declines, memory is as before.
/// </summary>
internal static unsafe partial class HugePages
{
    const int MADV_HUGEPAGE = 14;
    public const long PageBytes = 2 << 20;

    /// <summary>False when <c>GPTSHARP_HUGE_PAGES=0</c> or off Linux.</summary>
    public static bool Enabled { get; } = OperatingSystem.IsLinux() && Environment.GetEnvironmentVariable("GPTSHARP_HUGE_PAGES") != "0";

    /// <summary>The kernel's transparent huge page mode ("always", "madvise", "never"), or null where it has none.</summary>
    public static string? KernelMode
    {
        get
        {
            try
            {
                string text = File.ReadAllText("/sys/kernel/mm/transparent_hugepage/enabled");
                int open = text.IndexOf('['), close = text.IndexOf(']');
                return open >= 0 && close > open ? text[(open + 1)..close] : null;
            }
            catch (IOException) { return null; }
            catch (UnauthorizedAccessException) { return null; }
        }
    }

    /// <summary>
    /// With <paramref name="tensors"/>, sets <c>THP_MEM_ALLOC_ENABLE=1</c> in the process's native environment, which
    /// libtorch reads once, at its first allocation, unless the user set it. Returns what <see cref="TorchRuntime.Report"/> shows.
    /// </summary>
    public static string EnableForTorch(bool tensors)
    {
        if (!OperatingSystem.IsLinux()) return "not on this OS";
        if (!Enabled) return "off (GPTSHARP_HUGE_PAGES=0)";
        string mode = KernelMode ?? "none";
        if (mode == "never") return "off (the kernel's transparent huge pages are 'never')";
        string own = $"the onnx engine's weights and KV cache, kernel '{mode}'";
        if (Environment.GetEnvironmentVariable("THP_MEM_ALLOC_ENABLE") is { } set) return $"{own}; libtorch as set (THP_MEM_ALLOC_ENABLE={set})";
        if (!tensors) return own;
        return SetEnv("THP_MEM_ALLOC_ENABLE", "1", 0) == 0 ? $"{own}; libtorch tensors of 2 MiB and more" : $"{own} (setenv failed for libtorch)";
    }

    /// <summary>
    /// <paramref name="bytes"/> of native memory, 64-byte aligned; from 2 MiB up, 2 MiB-aligned and marked for huge
    /// pages before anything touches it. Free with <see cref="Free"/>.
    /// </summary>
    public static void* Allocate(nuint bytes)
    {
        if (!Enabled || bytes < (nuint)PageBytes) return NativeMemory.AlignedAlloc(bytes, 64);
        var p = NativeMemory.AlignedAlloc(bytes, (nuint)PageBytes);
        _ = MAdvise((nint)p, bytes & ~(nuint)(PageBytes - 1), MADV_HUGEPAGE); // advice: on refusal the pages are the usual ones
        return p;
    }

    public static void Free(void* p) => NativeMemory.AlignedFree(p);

    [LibraryImport("libc.so.6", EntryPoint = "madvise")]
    private static partial int MAdvise(nint addr, nuint length, int advice);

    [LibraryImport("libc.so.6", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
