using System.Text.Json.Nodes;

namespace GptSharp.Tuning;

/// <summary>
/// An integer parameter in [<see cref="Low"/>, <see cref="High"/>], as Optuna's <c>IntDistribution</c>: every
/// <see cref="Step"/>-th integer from low (high is moved down to the last one), or on a log scale (low ≥ 1, step 1).
/// </summary>
public sealed record IntDistribution : Distribution
{
    public long Low { get; }
    public long High { get; }
    public bool Log { get; }
    public long Step { get; }

    public IntDistribution(long low, long high, bool log = false, long step = 1)
    {
        if (low > high) throw new ArgumentException($"low ({low}) must not exceed high ({high})");
        if (step < 1) throw new ArgumentException($"step must be >= 1, got {step}");
        if (log && step != 1) throw new ArgumentException("step and log cannot be used together");
        if (log && low < 1) throw new ArgumentException($"a log scale needs low >= 1, got low = {low}");
        high = low + (high - low) / step * step;
        (Low, High, Log, Step) = (low, high, log, step);
    }

    public override bool IsSingle => Low == High;

    public override object? ToExternal(double internalValue) => (long)Math.Round(internalValue);

    public override double ToInternal(object? externalValue)
    {
        double v = externalValue switch
        {
            long l => l, int i => i, double d when d == Math.Floor(d) => d, decimal m when m == Math.Floor(m) => (double)m,
            _ => throw new GptSharpException($"expected an integer in [{Low}, {High}], got {externalValue ?? "null"}"),
        };
        if (!Contains(v)) throw new GptSharpException($"{v} is outside {ToJsonString()}");
        return v;
    }

    public override bool Contains(double v) =>
        v >= Low && v <= High && v == Math.Floor(v) && ((long)v - Low) % Step == 0;

    public override JsonObject ToJson() =>
        new() { ["type"] = "int", ["low"] = Low, ["high"] = High, ["log"] = Log, ["step"] = Step };
}
