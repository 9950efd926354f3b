using System.Text.Json;
using System.Text.Json.Nodes;

namespace GptSharp.Tuning;

/// <summary>
/// A search space as JSON, the shape <c>tune ask --search-space</c> and tune.json take:
/// <c>{"lr": {"type": "float", "low": 1e-5, "high": 1e-2, "log": true}, "layers": {"type": "int", "low": 1, "high": 8},
/// "optim": {"type": "categorical", "choices": ["adamw", "sgd"]}}</c>. Parameters keep the order they are written in.
/// </summary>
public static class SearchSpace
{
    /// <summary>Parses search-space JSON; errors name the parameter and say what was expected.</summary>
    public static IReadOnlyDictionary<string, Distribution> Parse(string json, string source = "search space")
    {
        JsonNode? root;
        try { root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip }); }
        catch (JsonException e)
        {
            throw new GptSharpException($"{source}: not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}): {e.Message.Split(" Path:")[0]}");
        }
        return FromJson(root, source);
    }

    /// <summary>Reads the parameters of a parsed JSON object.</summary>
    public static IReadOnlyDictionary<string, Distribution> FromJson(JsonNode? root, string source = "search space")
    {
        if (root is not JsonObject o)
            throw new GptSharpException($"{source}: expected a JSON object of parameters, e.g. {{\"lr\": {{\"type\": \"float\", \"low\": 1e-5, \"high\": 1e-2, \"log\": true}}}}");
        if (o.Count == 0) throw new GptSharpException($"{source}: no parameters");
        var space = new OrderedDictionary<string, Distribution>(StringComparer.Ordinal);
        foreach (var (name, node) in o)
        {
            if (string.IsNullOrWhiteSpace(name)) throw new GptSharpException($"{source}: a parameter has an empty name");
            try { space[name] = Distribution.FromJson(name, node); }
            catch (GptSharpException e) { throw new GptSharpException($"{source}: {e.Message}"); }
        }
        return space;
    }

    /// <summary>The JSON form of a search space (what <see cref="Parse"/> reads back).</summary>
    public static JsonObject ToJson(IReadOnlyDictionary<string, Distribution> space)
    {
        var o = new JsonObject();
        foreach (var (name, d) in space) o[name] = d.ToJson();
        return o;
    }

    /// <summary>
    /// Raises a clear error naming the first parameter that differs between a study's recorded search space and the one
    /// given now (added, removed or changed).
    /// </summary>
    public static void CheckSame(IReadOnlyDictionary<string, Distribution> recorded, IReadOnlyDictionary<string, Distribution> given, string study)
    {
        foreach (var (name, d) in given)
        {
            if (!recorded.TryGetValue(name, out var r))
                throw new GptSharpException($"study \"{study}\": parameter \"{name}\" is not in the study's search space ({string.Join(", ", recorded.Keys)}); use a new study name for a changed search space");
            if (!r.Equals(d))
                throw new GptSharpException($"study \"{study}\": parameter \"{name}\" was {r.ToJsonString()} and is now {d.ToJsonString()}; use a new study name for a changed search space");
        }
        foreach (var name in recorded.Keys)
            if (!given.ContainsKey(name))
                throw new GptSharpException($"study \"{study}\": parameter \"{name}\" of the study's search space is missing; use a new study name for a changed search space");
    }
}
