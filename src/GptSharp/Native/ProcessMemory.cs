using System.Globalization;

namespace GptSharp.Native;

/// <summary>This process's memory as the kernel counts it (Linux /proc/self/status); null where /proc is not there.</summary>
public static class ProcessMemory
{
    /// <summary>
    /// The peak resident set size (VmHWM) in bytes: everything this process ever held at once — runtime, libtorch,
    /// weights, activations. Only meaningful for one piece of work when the process did nothing else.
    /// </summary>
    public static long? PeakResidentBytes() => StatusBytes("VmHWM");

    static long? StatusBytes(string field)
    {
        try
        {
            if (!File.Exists("/proc/self/status")) return null;
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith(field + ":", StringComparison.Ordinal))
                    return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024; // kB
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return null;
    }
}
