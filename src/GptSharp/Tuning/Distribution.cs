using System.Globalization;
using System.Text.Json.Nodes;

namespace GptSharp.Tuning;

/// <summary>
/// The range a parameter is drawn from, as Optuna's <c>BaseDistribution</c>. Samplers work on an internal
/// representation, one <see cref="double"/> per parameter (the value itself for numbers, the choice's index for
/// categoricals); <see cref="ToExternal"/> and <see cref="ToInternal"/> convert.
/// </summary>
public abstract record Distribution
{
    /// <summary>The value a user sees (double, long, or a categorical choice) for an internal value.</summary>
    public abstract object? ToExternal(double internalValue);

    /// <summary>The internal value for a user's value; a clear error when it is not in the distribution.</summary>
    public abstract double ToInternal(object? externalValue);

    /// <summary>Whether an internal value lies in the distribution (range, step, index).</summary>
    public abstract bool Contains(double internalValue);

    /// <summary>Whether the distribution has a single possible value (nothing to sample).</summary>
    public abstract bool IsSingle { get; }

    /// <summary>The search-space JSON form: <c>{"type": "float", "low": …, "high": …, "log": …, "step": …}</c>.</summary>
    public abstract JsonObject ToJson();

    /// <summary>The JSON form as compact text (what storages keep).</summary>
    public string ToJsonString() => ToJson().ToJsonString();

    /// <summary>
    /// Raises a clear error when a parameter named <paramref name="name"/> was sampled from <paramref name="existing"/>
    /// in earlier trials and is now asked from <paramref name="given"/> of another kind: a different type, log scale or
    /// set of choices (ranges may move between trials, as in Optuna's define-by-run).
    /// </summary>
    public static void CheckCompatible(string name, Distribution existing, Distribution given)
    {
        string? why = (existing, given) switch
        {
            (FloatDistribution a, FloatDistribution b) when a.Log != b.Log => "log scale differs",
            (IntDistribution a, IntDistribution b) when a.Log != b.Log => "log scale differs",
            (CategoricalDistribution a, CategoricalDistribution b) when !a.Equals(b) => "choices differ",
            (FloatDistribution, FloatDistribution) or (IntDistribution, IntDistribution) or (CategoricalDistribution, CategoricalDistribution) => null,
            _ => "type differs",
        };
        if (why is not null)
            throw new GptSharpException(
                $"parameter \"{name}\" was {existing.ToJsonString()} in this study's earlier trials and is now {given.ToJsonString()} ({why}); " +
                "use a new study name for a changed search space");
    }

    /// <summary>Parses the JSON form; errors name the parameter.</summary>
    public static Distribution FromJson(string name, JsonNode? node)
    {
        if (node is not JsonObject o)
            throw new GptSharpException($"parameter \"{name}\": expected an object like {{\"type\": \"float\", \"low\": 0.001, \"high\": 0.1}}");
        string type = o["type"] is JsonValue t && t.TryGetValue<string>(out var s) ? s : throw new GptSharpException(
            $"parameter \"{name}\": \"type\" must be \"float\", \"int\" or \"categorical\"");
        var known = type switch
        {
            "float" => new[] { "type", "low", "high", "log", "step" },
            "int" => ["type", "low", "high", "log", "step"],
            "categorical" => ["type", "choices"],
            _ => throw new GptSharpException($"parameter \"{name}\": unknown type \"{type}\" (expected float, int or categorical)"),
        };
        foreach (var (key, _) in o)
            if (!known.Contains(key))
                throw new GptSharpException($"parameter \"{name}\": unknown key \"{key}\" for a {type} (expected {string.Join(", ", known)})");
        try
        {
            return type switch
            {
                "float" => new FloatDistribution(Number(name, o, "low"), Number(name, o, "high"), Bool(name, o, "log"),
                    o["step"] is null ? null : Number(name, o, "step")),
                "int" => new IntDistribution(Integer(name, o, "low"), Integer(name, o, "high"), Bool(name, o, "log"),
                    o["step"] is null ? 1 : Integer(name, o, "step")),
                _ => new CategoricalDistribution(o["choices"] is JsonArray a
                    ? [.. a.Select(c => CategoricalDistribution.Choice(name, c))]
                    : throw new GptSharpException($"parameter \"{name}\": \"choices\" must be an array")),
            };
        }
        catch (ArgumentException e)
        {
            throw new GptSharpException($"parameter \"{name}\": {e.Message}");
        }
    }

    static double Number(string name, JsonObject o, string key) =>
        TryNumber(o[key], out var d) ? d
        : throw new GptSharpException($"parameter \"{name}\": \"{key}\" must be a number");

    static long Integer(string name, JsonObject o, string key) =>
        TryNumber(o[key], out var d) && d == Math.Floor(d) && Math.Abs(d) < 9e15 ? (long)d
        : throw new GptSharpException($"parameter \"{name}\": \"{key}\" must be an integer");

    /// <summary>A JSON number as a double, whether parsed from text or built from a long or an int.</summary>
    internal static bool TryNumber(JsonNode? node, out double value)
    {
        value = 0;
        if (node is not JsonValue v || v.GetValueKind() != System.Text.Json.JsonValueKind.Number) return false;
        if (v.TryGetValue(out value)) return true;
        if (v.TryGetValue<long>(out var l)) { value = l; return true; }
        if (v.TryGetValue<int>(out var i)) { value = i; return true; }
        return false;
    }

    static bool Bool(string name, JsonObject o, string key) =>
        o[key] is null ? false
        : o[key] is JsonValue v && v.TryGetValue<bool>(out var b) ? b
        : throw new GptSharpException($"parameter \"{name}\": \"{key}\" must be true or false");

    /// <summary>A number as configs write it (round-trip, invariant culture).</summary>
    internal static string Format(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
