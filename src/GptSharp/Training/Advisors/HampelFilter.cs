namespace GptSharp.Training.Advisors;

/// <summary>
/// An upward-only Hampel filter: a value more than 3 scaled median absolute deviations above the median of its
/// neighbourhood (±<c>halfWindow</c> values, cut at the ends) is replaced by that median. The range test runs the raw
/// losses through it before smoothing them for its suggestions, so that one bad batch — a spike early on, when the
/// bias-corrected average weighs every value heavily — does not show as a long fake descent that fools them.
/// </summary>
public static class HampelFilter
{
    /// <summary>1.4826 × MAD estimates the standard deviation of normally distributed values.</summary>
    const double Scale = 1.4826, Threshold = 3;

    public static double[] RemoveSpikes(IReadOnlyList<double> values, int halfWindow = 5)
    {
        var result = values.ToArray();
        for (int i = 0; i < values.Count; i++)
        {
            int from = Math.Max(0, i - halfWindow), to = Math.Min(values.Count - 1, i + halfWindow);
            var window = new double[to - from + 1];
            for (int j = from; j <= to; j++) window[j - from] = values[j];
            double median = Median(window);
            double mad = Median([.. window.Select(v => Math.Abs(v - median))]);
            if (values[i] - median > Threshold * Scale * mad) result[i] = median;
        }
        return result;
    }

    static double Median(double[] values)
    {
        Array.Sort(values);
        int n = values.Length;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }
}
