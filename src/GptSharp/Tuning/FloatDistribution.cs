using System.Text.Json.Nodes;

namespace GptSharp.Tuning;

/// <summary>
/// A real parameter in [<see cref="Low"/>, <see cref="High"/>], as Optuna's <c>FloatDistribution</c>: uniform, on a log
/// scale (<see cref="Log"/>, low &gt; 0), or on a grid of <see cref="Step"/> (then <see cref="High"/> is moved down to
/// the last grid point). Log and step exclude each other.
/// </summary>
public sealed record FloatDistribution : Distribution
{
    public double Low { get; }
    public double High { get; }
    public bool Log { get; }
    public double? Step { get; }

    public FloatDistribution(double low, double high, bool log = false, double? step = null)
    {
        if (!double.IsFinite(low) || !double.IsFinite(high)) throw new ArgumentException("low and high must be finite numbers");
        if (low > high) throw new ArgumentException($"low ({Format(low)}) must not exceed high ({Format(high)})");
        if (log && low <= 0) throw new ArgumentException($"a log scale needs low > 0, got low = {Format(low)}");
        if (step is { } s)
        {
            if (log) throw new ArgumentException("step and log cannot be used together");
            if (!(s > 0) || !double.IsFinite(s)) throw new ArgumentException($"step must be > 0, got {Format(s)}");
            // Optuna's _adjust_discrete_uniform_high: the last point of the grid.
            double r = high - low;
            high = Math.Abs(Math.Round(r / s) * s - r) < 1e-9 * Math.Max(1, Math.Abs(r)) ? high : low + Math.Floor(r / s) * s;
        }
        (Low, High, Log, Step) = (low, high, log, step);
    }

    public override bool IsSingle => Low == High || Step is { } s && High - Low < s;

    public override object? ToExternal(double internalValue) => internalValue;

    public override double ToInternal(object? externalValue)
    {
        double v = externalValue switch
        {
            double d => d, float f => f, long l => l, int i => i, decimal m => (double)m,
            _ => throw new GptSharpException($"expected a number in [{Format(Low)}, {Format(High)}], got {externalValue ?? "null"}"),
        };
        if (!Contains(v)) throw new GptSharpException($"{Format(v)} is outside {ToJsonString()}");
        return v;
    }

    public override bool Contains(double v)
    {
        if (!(v >= Low && v <= High)) return false;
        if (Step is not { } s) return true;
        double k = (v - Low) / s;
        return Math.Abs(k - Math.Round(k)) < 1e-8;
    }

    public override JsonObject ToJson()
    {
        var o = new JsonObject { ["type"] = "float", ["low"] = Low, ["high"] = High, ["log"] = Log };
        if (Step is { } s) o["step"] = s;
        return o;
    }
}
