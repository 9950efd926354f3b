namespace GptSharp.Data.Statistics;

/// <summary>
/// Count, min, nearest-rank percentiles (p50, p90, p95, p99), max and mean of a list of token lengths.
/// The nearest-rank p-th percentile of n sorted values is the value at rank ⌈p/100 · n⌉ (1-based): the smallest value
/// that at least p % of the values are at or below. It is always one of the values, never an interpolation.
/// </summary>
public sealed record LengthSummary(int Count, int Min, int P50, int P90, int P95, int P99, int Max, double Mean)
{
    /// <summary>The summary of <paramref name="lengths"/>; throws <see cref="GptSharpException"/> when there are none.</summary>
    public static LengthSummary Of(IEnumerable<int> lengths, string what = "items")
    {
        int[] sorted = [.. lengths.Order()];
        if (sorted.Length == 0) throw new GptSharpException($"no {what} to measure");
        return new(sorted.Length, sorted[0], NearestRank(sorted, 50), NearestRank(sorted, 90), NearestRank(sorted, 95),
            NearestRank(sorted, 99), sorted[^1], sorted.Average(v => (double)v));
    }

    /// <summary>The nearest-rank <paramref name="percent"/>-th percentile of ascending <paramref name="sorted"/>: the value at
    /// 1-based rank ⌈percent/100 · n⌉ (rank 1 for percent 0).</summary>
    public static int NearestRank(IReadOnlyList<int> sorted, double percent)
    {
        if (sorted.Count == 0) throw new ArgumentException("no values", nameof(sorted));
        ArgumentOutOfRangeException.ThrowIfLessThan(percent, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percent, 100);
        // Round first so 95 % of 20 is rank 19, not 20 from 19.000000000000004.
        int rank = (int)Math.Ceiling(Math.Round(percent / 100 * sorted.Count, 9));
        return sorted[Math.Clamp(rank, 1, sorted.Count) - 1];
    }
}
