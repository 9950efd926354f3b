using System.Text.Json;
using System.Text.Json.Serialization;
using GptSharp.IO;

namespace GptSharp.Evaluation;

/// <summary>One evaluated example, kept in a report so a reader can see what the model actually answered.</summary>
public sealed record EvaluationSample(string Input, string Reference, string Prediction, double ExactMatch, double F1);

/// <summary>
/// The result of evaluating a model on a dialogue set, written as snake_case JSON (e.g. <c>exact_match</c>,
/// <c>token_accuracy</c>) so other tools can read it. Scores are in [0, 1]; absent ones are omitted.
/// </summary>
public sealed record EvaluationReport
{
    public string? Model { get; init; }
    public string? Dataset { get; init; }
    public int Examples { get; init; }
    public double? ExactMatch { get; init; }
    public double? F1 { get; init; }
    public double? Bleu { get; init; }
    /// <summary>Teacher-forced next-token accuracy over the answer tokens.</summary>
    public double? TokenAccuracy { get; init; }
    /// <summary>Mean cross-entropy over the answer tokens (nats), and its exponential.</summary>
    public double? Loss { get; init; }
    public double? Perplexity { get; init; }
    public DateTimeOffset? CreatedAt { get; init; }
    public IReadOnlyList<EvaluationSample>? Samples { get; init; }
    /// <summary>What the reader should know about how the scores were made (conversations truncated to fit the context).</summary>
    public IReadOnlyList<string>? Notes { get; init; }

    public static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // keep Chinese readable
    };

    /// <summary>A report with the text scores filled in.</summary>
    public static EvaluationReport FromScores(TextScores scores, string? model = null, string? dataset = null) => new()
    {
        Model = model, Dataset = dataset, Examples = scores.Count,
        ExactMatch = scores.ExactMatch, F1 = scores.F1, Bleu = scores.Bleu,
    };

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    public static EvaluationReport FromJson(string json) =>
        JsonSerializer.Deserialize<EvaluationReport>(json, JsonOptions) ?? throw new JsonException("the report is null");

    /// <summary>Writes the report atomically.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson() + "\n");

    public static EvaluationReport Load(string path)
    {
        try { return FromJson(File.ReadAllText(path)); }
        catch (JsonException e) { throw new GptSharpException($"{path}: not an evaluation report: {e.Message}", e); }
    }
}
