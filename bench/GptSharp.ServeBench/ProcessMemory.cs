namespace GptSharp.ServeBench;

/// <summary>A process's resident memory from /proc (Linux only; null elsewhere or when the process is gone).</summary>
static class ProcessMemory
{
    /// <summary>A field of /proc/PID/status in MiB: VmRSS (now) or VmHWM (peak).</summary>
    public static double? MiB(int? pid, string field)
    {
        string path = pid is { } p ? $"/proc/{p}/status" : "/proc/self/status";
        try
        {
            foreach (var line in File.ReadLines(path))
                if (line.StartsWith(field + ":", StringComparison.Ordinal))
                    return Math.Round(long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0, 1);
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }
}
