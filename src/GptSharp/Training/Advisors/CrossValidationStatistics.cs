namespace GptSharp.Training.Advisors;

/// <summary>Mean, sample standard deviation and standard error of the mean of per-fold values.</summary>
public sealed record FoldSummary(int Count, double Mean, double StdDev, double StdError);

/// <summary>Which of two configurations a paired comparison favours.</summary>
public enum ComparisonVerdict { FirstBetter, SecondBetter, WithinNoise }

/// <summary>
/// A paired comparison on the same folds: differences first − second per fold, their mean and standard error, and
/// t = mean / standard error with <see cref="DegreesOfFreedom"/> = k − 1. |t| &lt; 2 is called noise.
/// </summary>
public sealed record PairedComparison(IReadOnlyList<double> Differences, double MeanDifference, double StdError, double T, int DegreesOfFreedom,
    ComparisonVerdict Verdict);

/// <summary>The statistics of k-fold cross-validation, on plain numbers.</summary>
public static class CrossValidationStatistics
{
    /// <summary>|t| below this is within noise (roughly a 95 % two-sided test for moderate k).</summary>
    public const double NoiseT = 2.0;

    public static FoldSummary Summarize(IReadOnlyList<double> values)
    {
        if (values.Count == 0) throw new GptSharpException("no fold values to summarize");
        int n = values.Count;
        double mean = values.Average();
        double std = n > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (n - 1)) : 0;
        return new FoldSummary(n, mean, std, std / Math.Sqrt(n));
    }

    /// <summary>
    /// Compares <paramref name="first"/> with <paramref name="second"/> fold by fold. <paramref name="lowerIsBetter"/>
    /// says which way the metric points (val_loss: lower; token_f1, exact_match, bleu: higher).
    /// </summary>
    public static PairedComparison Compare(IReadOnlyList<double> first, IReadOnlyList<double> second, bool lowerIsBetter)
    {
        if (first.Count != second.Count)
            throw new GptSharpException($"a paired comparison needs the same folds: {first.Count} values against {second.Count}");
        if (first.Count < 2) throw new GptSharpException("a paired comparison needs at least 2 folds");
        var diffs = first.Zip(second, (a, b) => a - b).ToArray();
        var s = Summarize(diffs);
        double t = s.StdError > 0 ? s.Mean / s.StdError : s.Mean == 0 ? 0 : Math.CopySign(double.PositiveInfinity, s.Mean);
        var verdict = Math.Abs(t) < NoiseT ? ComparisonVerdict.WithinNoise
            : (s.Mean < 0) == lowerIsBetter ? ComparisonVerdict.FirstBetter : ComparisonVerdict.SecondBetter;
        return new PairedComparison(diffs, s.Mean, s.StdError, t, diffs.Length - 1, verdict);
    }
}
