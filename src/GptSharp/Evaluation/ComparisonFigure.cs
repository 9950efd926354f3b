using System.Globalization;

namespace GptSharp.Evaluation;

/// <summary>
/// One row of a comparison: its JSON key, its label, how its value reads and where it comes from. One list drives the
/// ratios, the table and the chart, so they always show the same figures.
/// </summary>
/// <param name="HigherIsBetter">Null where neither is (parameters, size).</param>
public sealed record ComparisonFigure(string Key, string Label, Func<ModelFigures, double?> Get, Func<double, string> Format, bool? HigherIsBetter)
{
    static string I(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);

    static string Count(double v) => v >= 1e9 ? I(v / 1e9, "F2") + " B" : v >= 1e6 ? I(v / 1e6, "F2") + " M" : v >= 1e3 ? I(v / 1e3, "F1") + " k" : I(v, "F0");

    static string MiB(double bytes) => I(bytes / (1024 * 1024), "F1") + " MiB";

    public static readonly IReadOnlyList<ComparisonFigure> All =
    [
        new("parameters", "parameters", f => f.Parameters, Count, null),
        new("weight_bytes", "weights on disk", f => f.WeightBytes, MiB, null),
        new("peak_rss_bytes", "peak RSS", f => f.PeakRssBytes, MiB, false),
        new("loss", "loss", f => f.Loss, v => I(v, "F4"), false),
        new("perplexity", "perplexity", f => f.Perplexity, v => I(v, "F2"), false),
        new("exact_match", "exact match", f => f.ExactMatch, v => I(v, "F4"), true),
        new("f1", "token F1", f => f.F1, v => I(v, "F4"), true),
        new("bleu", "BLEU", f => f.Bleu, v => I(v, "F4"), true),
        new("decode_tokens_per_second", "decode tokens/s (batch 1)", f => f.DecodeTokensPerSecond, v => I(v, "F1"), true),
        new("batch8_tokens_per_second", "decode tokens/s (batch 8)", f => f.Batch8TokensPerSecond, v => I(v, "F1"), true),
        new("time_to_first_token_seconds", "time to first token", f => f.TimeToFirstTokenSeconds, v => I(v * 1000, "F1") + " ms", false),
    ];
}
