namespace GptSharp.Training.Advisors;

/// <summary>
/// One probe of the batch-size search: <see cref="BatchSize"/> sequences per step, whether it <see cref="Fits"/> (no
/// out-of-memory error and <see cref="PeakBytes"/> within the budget), the peak memory it used above the baseline (null
/// where it cannot be measured), its training speed (null when it failed) and, when it failed, why.
/// </summary>
public sealed record BatchSizeProbe(int BatchSize, bool Fits, long? PeakBytes, double? TokensPerSecond, string? Failure = null)
{
    /// <summary>What the meter read before the probe, after the previous one's memory was released (null: no meter).</summary>
    public long? BaselineBytes { get; init; }
}
