using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace GptSharp.Training;

/// <summary>
/// A job's options (<see cref="TrainingArguments"/> or a job's record) from a JSON config file plus <c>key=value</c>
/// overrides (the CLI's <c>--set</c>). Unknown keys, keys of another job and values of the wrong type are errors that
/// name the key; range checks are the record's own Validate.
/// </summary>
public static class OptionsLoader
{
    /// <summary>Every job's options, to tell a key of another job from a misspelt one.</summary>
    static readonly (string Job, Type Options)[] Jobs =
    [
        (PretrainingOptions.JobName, typeof(PretrainingOptions)),
        (FineTuningOptions.JobName, typeof(FineTuningOptions)),
        (DistillationOptions.JobName, typeof(DistillationOptions)),
    ];

    public static T Load<T>(string? configPath, IEnumerable<string> overrides) where T : TrainingArguments =>
        Load<T>(configPath is null ? new JsonObject() : ReadObject(configPath), configPath, overrides);

    /// <summary>
    /// Options from a JSON object already read (e.g. the base job inside a tuning config) plus key=value overrides;
    /// <paramref name="source"/> names it in errors. The object is not changed.
    /// </summary>
    public static T Load<T>(JsonObject config, string? source, IEnumerable<string> overrides) where T : TrainingArguments
    {
        var json = TrainingArguments.Json;
        var keys = Keys(typeof(T));
        string job = Jobs.FirstOrDefault(j => j.Options == typeof(T)).Job ?? "training";
        string? configPath = source;
        source ??= "options";
        var obj = (JsonObject)config.DeepClone();
        foreach (var (key, _) in obj)
            if (!keys.ContainsKey(key)) throw UnknownKey(key, keys.Keys, configPath, job);

        foreach (var assignment in overrides)
        {
            int eq = assignment.IndexOf('=');
            if (eq <= 0) throw new GptSharpException($"--set expects key=value (got '{assignment}')");
            string key = assignment[..eq].Trim(), value = assignment[(eq + 1)..];
            int dot = key.IndexOf('.');
            if (dot > 0 && keys.TryGetValue(key[..dot], out var outer) && IsObject(outer))
            {
                // batch_size_schedule.end=64: one key of an option that is itself an object (what a tuning search space sets).
                var inner = Keys(Nullable.GetUnderlyingType(outer) ?? outer);
                string head = key[..dot], rest = key[(dot + 1)..];
                if (!inner.TryGetValue(rest, out var innerType))
                    throw new GptSharpException($"unknown option '{key}': {head} takes {string.Join(", ", inner.Keys)}");
                if (obj[head] is not JsonObject target) obj[head] = target = new JsonObject();
                target[rest] = Parse(key, value, innerType);
                continue;
            }
            if (!keys.TryGetValue(key, out var type)) throw UnknownKey(key, keys.Keys, null, job);
            obj[key] = Parse(key, value, type);
        }

        try
        {
            return obj.Deserialize<T>(json) ?? throw new GptSharpException($"{source}: expected a JSON object");
        }
        catch (JsonException e)
        {
            string key = e.Path?.TrimStart('$', '.') ?? "?";
            var type = TypeOf(keys, key);
            throw new GptSharpException($"{source}: {key}: expected {(type is null ? "a valid value" : Describe(type))}");
        }
    }

    /// <summary>The type of a key, or of a dotted key inside an object option (batch_size_schedule.end); null if unknown.</summary>
    static Type? TypeOf(IReadOnlyDictionary<string, Type> keys, string key)
    {
        int dot = key.IndexOf('.');
        if (dot < 0) return keys.GetValueOrDefault(key);
        if (keys.GetValueOrDefault(key[..dot]) is not { } outer || !IsObject(outer)) return null;
        string rest = key[(dot + 1)..];
        int bracket = rest.IndexOf('[');
        return Keys(Nullable.GetUnderlyingType(outer) ?? outer).GetValueOrDefault(bracket < 0 ? rest : rest[..bracket]);
    }

    /// <summary>Options whose value is a JSON object of their own keys (not a number, string or bool).</summary>
    static bool IsObject(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        return t.IsClass && t != typeof(string) && !t.IsArray;
    }

    /// <summary>The keys a job's options take (snake_case, as configs write them) and their types.</summary>
    public static IReadOnlyDictionary<string, Type> KeysOf<T>() where T : TrainingArguments => Keys(typeof(T));

    /// <summary>The error for a key the job does not take: whose key it is, or the closest valid ones.</summary>
    public static GptSharpException UnknownKeyError<T>(string key, string? file) where T : TrainingArguments =>
        UnknownKey(key, Keys(typeof(T)).Keys, file, Jobs.FirstOrDefault(j => j.Options == typeof(T)).Job ?? "training");

    /// <summary>The settable keys of an options type and their types.</summary>
    static Dictionary<string, Type> Keys(Type options)
    {
        var json = TrainingArguments.Json;
        json.MakeReadOnly(populateMissingResolver: true); // GetTypeInfo needs a resolver
        // [JsonIgnore] properties are derived state (e.g. TrainingArguments.LengthGiven), not options: neither listed nor settable.
        return json.GetTypeInfo(options).Properties.Where(p => !IsIgnored(p)).ToDictionary(p => p.Name, p => p.PropertyType);
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
            : IsObject(t) ? ParseObject(value)
            : t == typeof(int[]) ? ParseIntegers(value)
            : null;
        return node ?? throw new GptSharpException($"--set {key}={value}: expected {Describe(type)}");
    }

    /// <summary>An object option given whole on the command line: --set 'batch_size_schedule={"start": 8, ...}'.</summary>
    static JsonNode? ParseObject(string value)
    {
        try { return JsonNode.Parse(value) as JsonObject; }
        catch (JsonException) { return null; }
    }

    /// <summary>A list of integers given on the command line: [0, 2, 5] or 0,2,5.</summary>
    static JsonNode? ParseIntegers(string value)
    {
        var items = value.Trim().TrimStart('[').TrimEnd(']').Split(',', StringSplitOptions.TrimEntries);
        var array = new JsonArray();
        foreach (var item in items)
        {
            if (!int.TryParse(item, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int i)) return null;
            array.Add(i);
        }
        return array;
    }

    static string Describe(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        string what = t == typeof(string) ? "a string" : t == typeof(bool) ? "true or false"
            : t == typeof(int) || t == typeof(long) ? "an integer" : t == typeof(double) ? "a number"
            : t == typeof(int[]) ? "a list of integers, e.g. [0, 2, 5]"
            : IsObject(t) ? $"a JSON object of {string.Join(", ", Keys(t).Keys)}" : t.Name;
        return t != type ? what + " or null" : what;
    }

    static GptSharpException UnknownKey(string key, IEnumerable<string> valid, string? file, string job)
    {
        string where = file is null ? "" : file + ": ";
        // A key of another job is no typo: say whose it is, so the user knows it has no effect here.
        var owners = Jobs.Where(j => j.Job != job && Keys(j.Options).ContainsKey(key)).Select(j => j.Job).ToList();
        if (owners.Count > 0)
            return new GptSharpException($"{where}option '{key}' does not apply to {job}: it is an option of {string.Join(" and ", owners)}");
        var names = valid.ToList();
        var close = NameSuggestions.Closest(key, names);
        string hint = close.Count > 0 ? $" (did you mean {string.Join(" or ", close)}?)" : "";
        return new GptSharpException($"{where}unknown option '{key}'{hint}; valid keys: {string.Join(", ", names)}");
    }
}
