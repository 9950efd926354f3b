namespace GptSharp.Cli.Progress;

/// <summary>Whether to draw live progress bars or write plain log lines.</summary>
static class Terminal
{
    /// <summary>True when <paramref name="output"/> is the real, non-redirected console (tests pass their own writer).</summary>
    public static bool IsInteractive(TextWriter output) => ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected;

    public static string Duration(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{(int)t.TotalHours}:{t.Minutes:D2}:{t.Seconds:D2}" : $"{t.Minutes}:{t.Seconds:D2}";

    public static string Rate(double perSecond) =>
        perSecond >= 10_000 ? $"{perSecond / 1000:F1}k" : $"{perSecond:F0}";

    public static string Bytes(long bytes) =>
        bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):F1} GiB" : bytes >= 1 << 20 ? $"{bytes / (double)(1 << 20):F1} MiB" : $"{bytes / 1024.0:F1} KiB";
}
