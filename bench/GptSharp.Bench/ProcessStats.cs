using System.Diagnostics;

namespace GptSharp.Bench;

/// <summary>Memory and CPU figures of this process and of the machine, read from /proc (Linux only; null elsewhere).</summary>
static class ProcessStats
{
    /// <summary>A field of /proc/self/status in MiB (VmHWM: peak resident memory, VmRSS: current).</summary>
    public static double? StatusMiB(string field)
    {
        if (!File.Exists("/proc/self/status")) return null;
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(field + ":", StringComparison.Ordinal))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0; // kB
        return null;
    }

    /// <summary>Resets VmHWM to the current RSS so each case reports its own peak.</summary>
    public static void ResetPeakRss()
    {
        try { File.WriteAllText("/proc/self/clear_refs", "5"); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    /// <summary>Minor page faults of this process so far (/proc/self/stat field 10): memory handed back and faulted in again shows here.</summary>
    public static long? MinorFaults()
    {
        if (!File.Exists("/proc/self/stat")) return null;
        string stat = File.ReadAllText("/proc/self/stat");
        // Fields after the command name, which is in parentheses and may contain spaces; minflt is the 8th of them.
        return long.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[7]);
    }

    /// <summary>CPU busy time of the whole machine in seconds (all cores), from /proc/stat.</summary>
    static double? MachineBusySeconds()
    {
        if (!File.Exists("/proc/stat")) return null;
        var f = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
        long idle = f[3] + f[4]; // idle + iowait
        return (f.Sum() - idle) / 100.0; // USER_HZ
    }

    /// <summary>Cores this process kept busy, and cores other processes kept busy, over a stretch of wall time.</summary>
    public sealed class CpuMeter
    {
        readonly Stopwatch _wall = Stopwatch.StartNew();
        readonly TimeSpan _own = Process.GetCurrentProcess().TotalProcessorTime;
        readonly double? _machine = MachineBusySeconds();

        public (double Own, double? Others) Stop()
        {
            double wall = _wall.Elapsed.TotalSeconds;
            double own = (Process.GetCurrentProcess().TotalProcessorTime - _own).TotalSeconds / wall;
            double? machine = MachineBusySeconds() - _machine;
            return (own, machine is { } m ? Math.Max(0, m / wall - own) : null);
        }
    }
}
