namespace GptSharp.ServeBench;

static class Percentiles
{
    /// <summary>The <paramref name="p"/>-th percentile (0–100) by linear interpolation; null for no values.</summary>
    public static double? Of(IEnumerable<double> values, double p)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return null;
        double rank = p / 100 * (sorted.Length - 1);
        int lo = (int)Math.Floor(rank), hi = (int)Math.Ceiling(rank);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }

    public static double? Ms(IEnumerable<double> seconds, double p) => Of(seconds, p) is { } s ? Math.Round(s * 1000, 1) : null;
}
