using System.Text.Json;
using System.Text.Json.Nodes;
using GptSharp.IO;

namespace GptSharp.Training;

/// <summary>
/// <c>trainer_state.json</c> in a checkpoint: where the run was and every random state needed to continue it exactly.
/// (The optimizer's moments are in <c>optimizer.safetensors</c>, the weights in <c>model.safetensors</c>.)
/// </summary>
public sealed record TrainerState
{
    public const string FileName = "trainer_state.json";

    public int FormatVersion { get; init; } = 1;
    /// <summary>Optimizer steps completed (Hugging Face's name).</summary>
    public int GlobalStep { get; init; }
    public int MaxSteps { get; init; }
    public double? BestValLoss { get; init; }
    /// <summary>The checkpoint with the lowest val loss so far (rotation keeps it; load_best_model_at_end restores it).</summary>
    public int? BestCheckpointStep { get; init; }
    public double? BestCheckpointValLoss { get; init; }
    /// <summary>Evaluations in a row without a new best val loss (early_stopping_patience).</summary>
    public int EvalsWithoutImprovement { get; init; }
    public long TokensSeen { get; init; }
    public double ElapsedSeconds { get; init; }
    /// <summary>SHA-256 of <see cref="RunOptions"/>: resuming with different ones is refused.</summary>
    public string OptionsHash { get; init; } = "";
    /// <summary>The options that decide the trajectory (<see cref="TrainingArguments.TrajectoryOptions"/>).</summary>
    public JsonObject RunOptions { get; init; } = [];
    /// <summary>torch's default CPU generator (dropout), base64.</summary>
    public string? TorchRngState { get; init; }
    public JsonNode? TrainSampler { get; init; }

    static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    public void Write(string path) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this, Json) + "\n");

    public static TrainerState Read(string path)
    {
        if (!File.Exists(path)) throw new GptSharpException($"{path}: not found; is this a checkpoint directory?");
        try
        {
            return JsonSerializer.Deserialize<TrainerState>(File.ReadAllText(path), Json) ?? throw new GptSharpException($"{path}: empty trainer state");
        }
        catch (JsonException e)
        {
            throw new GptSharpException($"{path}: invalid trainer state ({e.Message})");
        }
    }
}
