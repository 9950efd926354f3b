using System.Text.Json;
using System.Text.Json.Nodes;

namespace GptSharp.Training;

/// <summary>A training line of metrics.jsonl: logged every logging_steps.</summary>
public sealed record TrainPoint(int Step, double Loss, double LearningRate, double? GradNorm, double? TokensPerSecond, double? Elapsed)
{
    /// <summary>The effective batch in sequences (runs logged before it was recorded have none).</summary>
    public int? BatchSize { get; init; }
}

/// <summary>An evaluation line of metrics.jsonl: validation loss at a step.</summary>
public sealed record EvalPoint(int Step, double ValLoss, double? Elapsed);

/// <summary>
/// A run's <c>metrics.jsonl</c> (written by <see cref="MetricsLog"/>) split into training and evaluation lines.
/// Lines are told apart by their keys: "loss" makes a training line, "val_loss" an evaluation line; other lines
/// (e.g. from a newer version) are skipped. Bad JSON or a missing/ill-typed key is an error naming file:line, except in
/// an unterminated last line that does not parse: a run killed while writing leaves one, so it is skipped and
/// <see cref="TornLastLine"/> says where.
/// </summary>
public sealed record TrainingHistory(IReadOnlyList<TrainPoint> Train, IReadOnlyList<EvalPoint> Eval)
{
    /// <summary>Whether the effective batch changed during the run (a batch_size_schedule).</summary>
    public bool BatchSizeVaries => Train.Select(p => p.BatchSize).Where(b => b is not null).Distinct().Skip(1).Any();

    /// <summary>"file:line" of a torn last line that was skipped, else null.</summary>
    public string? TornLastLine { get; init; }

    public static TrainingHistory Read(string path)
    {
        if (!File.Exists(path)) throw new GptSharpException($"{path}: no such file (a training run writes {MetricsLog.FileName} into its output directory)");
        var train = new List<TrainPoint>();
        var eval = new List<EvalPoint>();
        string? torn = null;
        string[] lines = File.ReadAllText(path).Split('\n'); // the last element is "" when the file ends with a newline
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            if (string.IsNullOrWhiteSpace(line)) continue;
            string where = $"{path}:{i + 1}";
            JsonObject obj;
            try { obj = JsonNode.Parse(line) as JsonObject ?? throw new GptSharpException($"{where}: expected a JSON object"); }
            catch (JsonException) when (i == lines.Length - 1)
            {
                torn = where;
                break;
            }
            catch (JsonException e) { throw new GptSharpException($"{where}: not valid JSON: {e.Message}", e); }

            int step = Number(obj, "step", where) is { } s && s == Math.Floor(s) && s >= 0 ? (int)s
                : throw new GptSharpException($"{where}: expected a non-negative integer \"step\"");
            if (obj.ContainsKey("val_loss"))
                eval.Add(new EvalPoint(step, Required(obj, "val_loss", where), Number(obj, "elapsed", where)));
            else if (obj.ContainsKey("loss"))
                train.Add(new TrainPoint(step, Required(obj, "loss", where), Number(obj, "lr", where) ?? double.NaN,
                    Number(obj, "grad_norm", where), Number(obj, "tokens_per_sec", where), Number(obj, "elapsed", where))
                    { BatchSize = Number(obj, "batch_size", where) is { } bs ? (int)bs : null });
        }
        return new TrainingHistory(train, eval) { TornLastLine = torn };
    }

    static double Required(JsonObject obj, string key, string where) =>
        Number(obj, key, where) ?? throw new GptSharpException($"{where}: expected a number \"{key}\"");

    /// <summary>The number under <paramref name="key"/>, null when absent or JSON null.</summary>
    static double? Number(JsonObject obj, string key, string where)
    {
        var node = obj[key];
        if (node is null) return null;
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.Number) return v.GetValue<double>();
        throw new GptSharpException($"{where}: \"{key}\" should be a number, not {node.ToJsonString()}");
    }
}
