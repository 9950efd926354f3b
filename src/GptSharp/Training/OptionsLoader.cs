using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace GptSharp.Training;

/// <summary>
/// Options records from a JSON config file plus <c>key=value</c> overrides (the CLI's <c>--set</c>). Unknown keys and
/// values of the wrong type are errors that name the key; range checks are the record's own Validate.
/// </summary>
public static class OptionsLoader
{
    public static T Load<T>(string? configPath, IEnumerable<string> overrides, JsonSerializerOptions json) where T : class
    {
        json.MakeReadOnly(populateMissingResolver: true); // GetTypeInfo needs a resolver
        // [JsonIgnore] properties are derived state (e.g. TrainingOptions.LengthGiven), not options: neither listed nor settable.
        var keys = json.GetTypeInfo(typeof(T)).Properties.Where(p => !IsIgnored(p)).ToDictionary(p => p.Name, p => p.PropertyType);
        string source = configPath ?? "options";
        var obj = configPath is null ? new JsonObject() : ReadObject(configPath);
        foreach (var (key, _) in obj)
            if (!keys.ContainsKey(key)) throw UnknownKey(key, keys.Keys, configPath);

        foreach (var assignment in overrides)
        {
            int eq = assignment.IndexOf('=');
            if (eq <= 0) throw new GptSharpException($"--set expects key=value (got '{assignment}')");
            string key = assignment[..eq].Trim(), value = assignment[(eq + 1)..];
            if (!keys.TryGetValue(key, out var type)) throw UnknownKey(key, keys.Keys, null);
            obj[key] = Parse(key, value, type);
        }

        try
        {
            return obj.Deserialize<T>(json) ?? throw new GptSharpException($"{source}: expected a JSON object");
        }
        catch (JsonException e)
        {
            string key = e.Path?.TrimStart('$', '.') ?? "?";
            var type = keys.GetValueOrDefault(key);
            throw new GptSharpException($"{source}: {key}: expected {(type is null ? "a valid value" : Describe(type))}");
        }
    }

    static bool IsIgnored(JsonPropertyInfo p) =>
        p.AttributeProvider?.GetCustomAttributes(typeof(JsonIgnoreAttribute), true).OfType<JsonIgnoreAttribute>()
            .Any(a => a.Condition == JsonIgnoreCondition.Always) == true;

    static JsonObject ReadObject(string path)
    {
        if (!File.Exists(path)) throw new GptSharpException($"{path}: config file not found");
        try
        {
            return JsonNode.Parse(File.ReadAllText(path), documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })
                as JsonObject ?? throw new GptSharpException($"{path}: expected a JSON object");
        }
        catch (JsonException e)
        {
            throw new GptSharpException($"{path}:{e.LineNumber + 1}: invalid JSON ({e.Message})");
        }
    }

    /// <summary>A command-line value as the JSON the property expects; "null" clears a nullable option.</summary>
    static JsonNode? Parse(string key, string value, Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (value == "null" && (t != type || !type.IsValueType)) return null;
        var inv = CultureInfo.InvariantCulture;
        JsonNode? node =
            t == typeof(string) ? JsonValue.Create(value)
            : t == typeof(bool) ? (bool.TryParse(value, out var b) ? JsonValue.Create(b) : null)
            : t == typeof(int) ? (int.TryParse(value, NumberStyles.AllowLeadingSign, inv, out var i) ? JsonValue.Create(i) : null)
            : t == typeof(long) ? (long.TryParse(value, NumberStyles.AllowLeadingSign, inv, out var l) ? JsonValue.Create(l) : null)
            : t == typeof(double) ? (double.TryParse(value, NumberStyles.Float, inv, out var d) && double.IsFinite(d) ? JsonValue.Create(d) : null)
            : null;
        return node ?? throw new GptSharpException($"--set {key}={value}: expected {Describe(type)}");
    }

    static string Describe(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        string what = t == typeof(string) ? "a string" : t == typeof(bool) ? "true or false"
            : t == typeof(int) || t == typeof(long) ? "an integer" : t == typeof(double) ? "a number" : t.Name;
        return t != type ? what + " or null" : what;
    }

    static GptSharpException UnknownKey(string key, IEnumerable<string> valid, string? file)
    {
        var names = valid.ToList();
        var close = NameSuggestions.Closest(key, names);
        string hint = close.Count > 0 ? $" (did you mean {string.Join(" or ", close)}?)" : "";
        return new GptSharpException($"{(file is null ? "" : file + ": ")}unknown option '{key}'{hint}; valid keys: {string.Join(", ", names)}");
    }
}
