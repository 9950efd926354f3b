using GptSharp.IO;
using System.Text.Json;
using GptSharp.Server.Errors;

namespace GptSharp.Server.Requests;

/// <summary>
/// Reads a request body's fields, each check failing with a 400 that names the field (<c>param</c>) and says what was
/// expected. Fields it is not asked about are ignored, as OpenAI's API ignores unknown fields. JSON null counts as absent.
/// </summary>
public sealed class JsonFields
{
    readonly JsonElement _root;

    JsonFields(JsonElement root) => _root = root;

    /// <summary>The body as a JSON object (400 for malformed JSON or another kind of value).</summary>
    public static JsonFields Parse(ReadOnlyMemory<byte> body)
    {
        JsonElement root;
        try
        {
            using var doc = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 32 });
            root = doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new ApiException(400, $"The request body is not valid JSON: {e.Message}", code: "invalid_json");
        }
        return root.ValueKind == JsonValueKind.Object ? new JsonFields(root)
            : throw new ApiException(400, $"The request body must be a JSON object, not {JsonKinds.Describe(root)}", code: "invalid_json");
    }

    public JsonElement? Get(string name) =>
        _root.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    public bool Has(string name) => Get(name) is not null;

    public string? String(string name) => Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.String } v => v.GetString(),
        var v => throw Wrong(name, "a string", v.Value),
    };

    public bool? Bool(string name) => Get(name) switch
    {
        null => null,
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        var v => throw Wrong(name, "true or false", v.Value),
    };

    /// <summary>A number in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public double? Number(string name, double min, double max)
    {
        if (Get(name) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double d) || !double.IsFinite(d)) throw Wrong(name, "a number", v);
        return d >= min && d <= max ? d : throw ApiException.Invalid(name, $"'{name}' must be between {min} and {max} (got {d})");
    }

    /// <summary>An integer in [<paramref name="min"/>, <paramref name="max"/>].</summary>
    public long? Integer(string name, long min, long max)
    {
        if (Get(name) is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out long i)) throw Wrong(name, "an integer", v);
        return i >= min && i <= max ? i : throw ApiException.Invalid(name, $"'{name}' must be between {min} and {max} (got {i})");
    }

    public static ApiException Wrong(string name, string expected, JsonElement got) =>
        ApiException.Invalid(name, $"'{name}' must be {expected}, not {JsonKinds.Describe(got)}", "invalid_type");

}
