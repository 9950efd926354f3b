using System.Globalization;
using System.Text.RegularExpressions;

namespace GptSharp.Training.Advisors;

/// <summary>Memory sizes as people write them: 4GiB, 512MiB, 1.5GB, 800M, 1e9, 123456 (bytes). K/M/G/T and KiB… are powers of 1024; kB/MB/GB/TB powers of 1000.</summary>
public static partial class MemorySize
{
    [GeneratedRegex(@"^\s*(?<n>[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*(?<u>[kKmMgGtT]?(?:i?[bB])?)\s*$")]
    private static partial Regex Pattern();

    public static long Parse(string text, string option)
    {
        var m = Pattern().Match(text ?? "");
        if (!m.Success || !double.TryParse(m.Groups["n"].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double n))
            throw new GptSharpException($"{option}: cannot read '{text}' as a memory size (e.g. 4GiB, 512MiB, 2GB, or a number of bytes)");
        string u = m.Groups["u"].Value;
        int power = u.Length == 0 ? 0 : char.ToUpperInvariant(u[0]) switch { 'K' => 1, 'M' => 2, 'G' => 3, 'T' => 4, _ => 0 };
        bool decimalUnit = u.Length == 2 && u[1] is 'B' or 'b' && power > 0; // "GB": 1000³; "G", "GiB": 1024³
        double bytes = n * Math.Pow(decimalUnit ? 1000 : 1024, power);
        if (!(bytes >= 1) || bytes > long.MaxValue)
            throw new GptSharpException($"{option}: '{text}' is not a usable memory size (at least 1 byte)");
        return (long)bytes;
    }

    public static string Format(long bytes) =>
        bytes >= 1L << 30 ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 30):F2} GiB")
        : bytes >= 1L << 20 ? string.Create(CultureInfo.InvariantCulture, $"{bytes / (double)(1L << 20):F1} MiB")
        : string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:F1} KiB");
}
