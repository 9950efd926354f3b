using System.Text.Json;
using System.Text.Json.Nodes;
using GptSharp.IO;

namespace GptSharp.Training;

/// <summary><c>metrics.jsonl</c>: one JSON object per line, each with a "step".</summary>
public sealed class MetricsLog(string path)
{
    public const string FileName = "metrics.jsonl";

    public string Path { get; } = path;

    public void Append(JsonObject entry) => File.AppendAllText(Path, entry.ToJsonString() + "\n");

    /// <summary>Drops lines logged after <paramref name="step"/>: a resumed run logs those steps again.</summary>
    public void TruncateAfter(int step)
    {
        if (!File.Exists(Path)) return;
        var kept = File.ReadLines(Path).Where(line =>
        {
            try { return JsonNode.Parse(line)?["step"]?.GetValue<int>() <= step; }
            catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException) { return false; }
        }).ToList();
        AtomicFile.WriteAllText(Path, string.Concat(kept.Select(l => l + "\n")));
    }

    public static IReadOnlyList<JsonObject> Read(string path) =>
        File.ReadLines(path).Where(l => l.Length > 0).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
}
