using System.Text.Json;
using GptSharp.IO;

namespace GptSharp.Evaluation;

/// <summary>
/// What <see cref="ModelComparison"/> measured on one model, as snake_case JSON (the CLI's child processes hand it to
/// their parent this way). Loss and perplexity are over the assistant's tokens of dialogues (every token of plain
/// text); reply scores are in [0, 1] and absent for plain text.
/// </summary>
public sealed record ModelFigures
{
    /// <summary>How the model was named (<see cref="ComparedModel.Label"/>).</summary>
    public required string Label { get; init; }
    public required string Model { get; init; }
    /// <summary>How it inferred: fp32, bf16, int8 or int4 (auto resolved).</summary>
    public required string Precision { get; init; }
    /// <summary>What decoded it: torch, or onnxruntime (<see cref="Models.IDecodingEngine.Name"/>).</summary>
    public string Engine { get; init; } = "torch";

    /// <summary>How it ran, for headings: the precision, and the engine when not torch ("bf16, onnxruntime").</summary>
    public string Setting() => Engine == "torch" ? Precision : $"{Precision}, {Engine}";
    public long Parameters { get; init; }
    /// <summary>The bytes of the weight file the model loaded from (model.safetensors, or model.int8.safetensors of a
    /// quantised directory); a directory loaded @int8 from float weights still has its float file on disk.</summary>
    public long WeightBytes { get; init; }
    public required string WeightFile { get; init; }
    /// <summary>The peak resident memory of a process that measured only this model (VmHWM); null when not measured so.</summary>
    public long? PeakRssBytes { get; init; }
    /// <summary>Conversations evaluated (1 for plain text).</summary>
    public int Examples { get; init; }
    public double? Loss { get; init; }
    public double? Perplexity { get; init; }
    public double? ExactMatch { get; init; }
    public double? F1 { get; init; }
    public double? Bleu { get; init; }
    /// <summary>Greedy decoding, one sequence: new tokens per second.</summary>
    public double DecodeTokensPerSecond { get; init; }
    /// <summary>Greedy decoding, eight sequences together: new tokens per second in all.</summary>
    public double Batch8TokensPerSecond { get; init; }
    public double TimeToFirstTokenSeconds { get; init; }
    /// <summary>Tokens per decoding run and the time-to-first-token prompt's length, after capping by the context.</summary>
    public int DecodeTokens { get; init; }
    public int PromptTokens { get; init; }
    /// <summary>Each figure (<see cref="ComparisonFigure.Key"/>) divided by the first model's; set by <see cref="ComparisonReport.Create"/>.</summary>
    public IReadOnlyDictionary<string, double?>? Ratios { get; init; }
    public IReadOnlyList<string>? Notes { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this, EvaluationReport.JsonOptions);

    public static ModelFigures Load(string path)
    {
        try { return JsonSerializer.Deserialize<ModelFigures>(Utf8Text.ReadFile(path), EvaluationReport.JsonOptions) ?? throw new JsonException("null"); }
        catch (JsonException e) { throw new GptSharpException($"{path}: not a model's figures: {e.Message}", e); }
    }

    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson() + "\n");
}
