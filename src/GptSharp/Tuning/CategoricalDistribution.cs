using System.Text.Json;
using System.Text.Json.Nodes;

namespace GptSharp.Tuning;

/// <summary>
/// A parameter that takes one of <see cref="Choices"/> (strings, numbers, booleans or null), as Optuna's
/// <c>CategoricalDistribution</c>; its internal value is the choice's index.
/// </summary>
public sealed record CategoricalDistribution : Distribution
{
    public IReadOnlyList<object?> Choices { get; }

    public CategoricalDistribution(IReadOnlyList<object?> choices)
    {
        if (choices.Count == 0) throw new ArgumentException("choices must not be empty");
        var normal = choices.Select(Normalize).ToArray();
        for (int i = 0; i < normal.Length; i++)
            for (int j = 0; j < i; j++)
                if (Equals(normal[i], normal[j])) throw new ArgumentException($"choice {Show(normal[i])} appears twice");
        Choices = normal;
    }

    public override bool IsSingle => Choices.Count == 1;

    public override object? ToExternal(double internalValue) => Choices[(int)internalValue];

    public override double ToInternal(object? externalValue)
    {
        var v = Normalize(externalValue);
        for (int i = 0; i < Choices.Count; i++)
            if (Equals(Choices[i], v)) return i;
        throw new GptSharpException($"{Show(v)} is not one of the choices {ToJson()["choices"]!.ToJsonString()}");
    }

    public override bool Contains(double v) => v >= 0 && v < Choices.Count && v == Math.Floor(v);

    public override JsonObject ToJson() => new() { ["type"] = "categorical", ["choices"] = new JsonArray([.. Choices.Select(ToNode)]) };

    public bool Equals(CategoricalDistribution? other) =>
        other is not null && Choices.Count == other.Choices.Count && Choices.Zip(other.Choices).All(p => Equals(p.First, p.Second));

    public override int GetHashCode() => Choices.Count;

    /// <summary>One choice of a JSON array: a string, a number (long when integral), a boolean or null.</summary>
    internal static object? Choice(string name, JsonNode? node) => node switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
        JsonValue v when TryNumber(v, out var d) => Normalize(d),
        _ => throw new GptSharpException($"parameter \"{name}\": a choice must be a string, number, boolean or null, got {node.ToJsonString()}"),
    };

    /// <summary>Integral numbers as long, other numbers as double, so 8, 8L and 8.0 are the same choice.</summary>
    static object? Normalize(object? v) => v switch
    {
        int i => (long)i,
        float f => Normalize((double)f),
        decimal m => Normalize((double)m),
        double d when d == Math.Floor(d) && Math.Abs(d) < 9e15 => (long)d,
        null or string or bool or long or double => v,
        _ => throw new ArgumentException($"a choice must be a string, number, boolean or null, got {v.GetType().Name}"),
    };

    /// <summary>A choice (or any parameter value) as JSON.</summary>
    public static JsonNode? ToNode(object? v) => v switch
    {
        null => null,
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        long l => JsonValue.Create(l),
        double d => JsonValue.Create(d),
        _ => throw new InvalidOperationException(),
    };

    static string Show(object? v) => ToNode(v)?.ToJsonString() ?? "null";
}
