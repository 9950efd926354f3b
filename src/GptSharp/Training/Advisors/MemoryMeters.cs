using System.Globalization;
using GptSharp.Native;

namespace GptSharp.Training.Advisors;

/// <summary>How much memory the process uses now, in bytes: what the batch-size finder samples during a probe.</summary>
public interface IMemoryMeter
{
    /// <summary>What it measures, for the report (e.g. "process RSS").</summary>
    string Name { get; }
    long CurrentBytes();
}

/// <summary>
/// The meters of this machine. CPU: the process's resident set (VmRSS in /proc/self/status, Linux). The peak (VmHWM)
/// cannot be reset between probes, so a probe's peak is VmRSS sampled during it (every few milliseconds and after each
/// step) minus VmRSS before it. CUDA: TorchSharp 0.107 exposes no torch.cuda memory statistics, so there is no meter and a
/// batch fits on CUDA when it raises no out-of-memory error.
/// </summary>
public static class MemoryMeters
{
    /// <summary>The process's resident set size (Linux /proc/self/status VmRSS), or null where /proc is not there.</summary>
    public static IMemoryMeter? ProcessRss() => File.Exists("/proc/self/status") ? new RssMeter() : null;

    /// <summary>MemAvailable of /proc/meminfo: what can be allocated without swapping; null where it is not there.</summary>
    public static long? Available()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
                if (line.StartsWith("MemAvailable:", StringComparison.Ordinal)) return Kib(line);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }

    static long Kib(string line) =>
        long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;

    sealed class RssMeter : IMemoryMeter
    {
        public string Name => "process RSS";
        public long CurrentBytes()
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) return Kib(line);
            throw new GptSharpException("/proc/self/status has no VmRSS line");
        }
    }

    /// <summary>
    /// Gives freed memory back before a baseline is read: .NET finalizers (tensors not yet disposed), then the allocator's
    /// free pages (<see cref="Allocator.ReturnFreeMemory"/>: tcmalloc's page heap, or glibc's malloc_trim), which both
    /// allocators otherwise keep resident for reuse, so that each probe starts from the same baseline.
    /// </summary>
    public static void Release()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        Allocator.ReturnFreeMemory();
    }
}
