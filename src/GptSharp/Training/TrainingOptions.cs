using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using GptSharp.Models;

namespace GptSharp.Training;

/// <summary>
/// Everything a training run needs. JSON names are snake_case and follow Hugging Face's <c>TrainingArguments</c> where one
/// exists. Load a config file plus <c>key=value</c> overrides with <see cref="OptionsLoader"/>; <see cref="Validate"/>
/// reports every bad value at once, naming the key and its allowed range.
/// </summary>
public sealed record TrainingOptions
{
    // Run and data
    public string OutputDir { get; init; } = "";
    public bool OverwriteOutputDir { get; init; }
    /// <summary>A checkpoint directory, or "latest" for the newest <c>checkpoint-N</c> in <see cref="OutputDir"/> (a fresh start if none).</summary>
    public string? ResumeFromCheckpoint { get; init; }
    /// <summary>A directory made by <c>gptsharp data prepare</c> (required for pretraining).</summary>
    public string DataDir { get; init; } = "";

    // Optimisation
    public int MaxSteps { get; init; } = 1000;
    public int PerDeviceTrainBatchSize { get; init; } = 8;
    public int GradientAccumulationSteps { get; init; } = 1;
    public double LearningRate { get; init; } = 6e-4;
    /// <summary>AdamW's decoupled weight decay, applied to 2-D parameters only (matrices and embeddings), as nanoGPT.</summary>
    public double WeightDecay { get; init; } = 0.1;
    public double AdamBeta1 { get; init; } = 0.9;
    public double AdamBeta2 { get; init; } = 0.95;
    public double AdamEpsilon { get; init; } = 1e-8;
    /// <summary>Clip the global gradient norm to this; 0 turns clipping off.</summary>
    public double MaxGradNorm { get; init; } = 1.0;
    public string LrSchedulerType { get; init; } = "cosine";
    public int WarmupSteps { get; init; }
    /// <summary>The schedule's floor as a fraction of <see cref="LearningRate"/>.</summary>
    public double MinLrRatio { get; init; } = 0.1;

    // Logging, evaluation, checkpoints
    public int LoggingSteps { get; init; } = 10;
    /// <summary>Evaluate every this many steps (and after the last); 0 evaluates only after the last.</summary>
    public int EvalSteps { get; init; } = 100;
    /// <summary>Validation batches per evaluation (the same batches each time, so evaluations compare).</summary>
    public int EvalIters { get; init; } = 20;
    /// <summary>Write checkpoint-N every this many steps; 0 writes only final/ (and a checkpoint on cancellation).</summary>
    public int SaveSteps { get; init; } = 500;
    /// <summary>Keep at most this many checkpoint-N directories (the newest); null keeps all.</summary>
    public int? SaveTotalLimit { get; init; } = 3;
    public long Seed { get; init; } = 1337;
    /// <summary>Run matmuls in bfloat16 while parameters and optimizer state stay float32.</summary>
    public bool Bf16 { get; init; }
    /// <summary>Tokens per training window (the context the model is trained on); at most the model's n_positions.</summary>
    public int BlockSize { get; init; } = 256;
    /// <summary>"auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N".</summary>
    public string Device { get; init; } = "auto";

    // Model: a preset, a preset with overrides, explicit sizes, or an existing model directory.
    /// <summary>One of <see cref="GptPresets.All"/>; "tiny" when neither it, the sizes nor <see cref="InitFrom"/> are given.</summary>
    public string? Preset { get; init; }
    public int? NLayer { get; init; }
    public int? NHead { get; init; }
    public int? NEmbd { get; init; }
    /// <summary>The model's context length; defaults to the preset's, or to <see cref="BlockSize"/> without a preset.</summary>
    public int? NPositions { get; init; }
    /// <summary>Defaults to the data's vocabulary size; may be larger (e.g. padded to a multiple of 64).</summary>
    public int? VocabSize { get; init; }
    public double Dropout { get; init; }
    /// <summary>Start from the weights of this model directory (Hugging Face GPT-2 layout) instead of a random init.</summary>
    public string? InitFrom { get; init; }

    internal static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        RespectNullableAnnotations = true,
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        WriteIndented = true,
    };

    /// <summary>Keys that do not change what is computed: they may differ between a run and its resumption.</summary>
    static readonly HashSet<string> ResumeIndependentKeys =
    [
        "output_dir", "overwrite_output_dir", "resume_from_checkpoint", "data_dir", "device",
        "logging_steps", "eval_steps", "eval_iters", "save_steps", "save_total_limit",
    ];

    /// <summary>A JSON config file (or none) plus key=value overrides, validated.</summary>
    public static TrainingOptions Load(string? configPath, IEnumerable<string>? overrides = null) =>
        OptionsLoader.Load<TrainingOptions>(configPath, overrides ?? [], Json).Validate();

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>The options that decide the training trajectory (everything but paths, logging and checkpoint cadence).</summary>
    public JsonObject TrajectoryOptions()
    {
        var all = JsonSerializer.SerializeToNode(this, Json)!.AsObject();
        foreach (var k in ResumeIndependentKeys) all.Remove(k);
        return all;
    }

    public static string Hash(JsonObject trajectoryOptions) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(trajectoryOptions.ToJsonString())));

    /// <summary>Throws a <see cref="GptSharpException"/> listing every invalid option with its allowed range.</summary>
    public TrainingOptions Validate()
    {
        var errors = new List<string>();
        void Need(bool ok, string message) { if (!ok) errors.Add(message); }
        static bool In(double v, double lo, double hi) => v >= lo && v <= hi; // false for NaN

        Need(!string.IsNullOrWhiteSpace(OutputDir), "output_dir is required");
        Need(MaxSteps >= 1, $"max_steps must be at least 1 (got {MaxSteps})");
        Need(PerDeviceTrainBatchSize >= 1, $"per_device_train_batch_size must be at least 1 (got {PerDeviceTrainBatchSize})");
        Need(GradientAccumulationSteps >= 1, $"gradient_accumulation_steps must be at least 1 (got {GradientAccumulationSteps})");
        Need(LearningRate > 0 && LearningRate <= 1, $"learning_rate must be in (0, 1] (got {LearningRate})");
        Need(In(WeightDecay, 0, 1), $"weight_decay must be in [0, 1] (got {WeightDecay})");
        Need(In(AdamBeta1, 0, 1) && AdamBeta1 < 1, $"adam_beta1 must be in [0, 1) (got {AdamBeta1})");
        Need(In(AdamBeta2, 0, 1) && AdamBeta2 < 1, $"adam_beta2 must be in [0, 1) (got {AdamBeta2})");
        Need(AdamEpsilon > 0 && AdamEpsilon <= 1, $"adam_epsilon must be in (0, 1] (got {AdamEpsilon})");
        Need(MaxGradNorm >= 0 && double.IsFinite(MaxGradNorm), $"max_grad_norm must be 0 (off) or positive (got {MaxGradNorm})");
        Need(LearningRateSchedules.Names.Contains(LrSchedulerType),
            $"lr_scheduler_type must be one of: {string.Join(", ", LearningRateSchedules.Names)} (got '{LrSchedulerType}')");
        Need(WarmupSteps >= 0 && WarmupSteps <= MaxSteps, $"warmup_steps must be in [0, max_steps = {MaxSteps}] (got {WarmupSteps})");
        Need(In(MinLrRatio, 0, 1), $"min_lr_ratio must be in [0, 1] (got {MinLrRatio})");
        Need(LoggingSteps >= 1, $"logging_steps must be at least 1 (got {LoggingSteps})");
        Need(EvalSteps >= 0, $"eval_steps must be 0 (only at the end) or positive (got {EvalSteps})");
        Need(EvalIters >= 1, $"eval_iters must be at least 1 (got {EvalIters})");
        Need(SaveSteps >= 0, $"save_steps must be 0 (only final/) or positive (got {SaveSteps})");
        Need(SaveTotalLimit is null or >= 1, $"save_total_limit must be null (keep all) or at least 1 (got {SaveTotalLimit})");
        Need(BlockSize >= 1, $"block_size must be at least 1 (got {BlockSize})");
        Need(System.Text.RegularExpressions.Regex.IsMatch(Device, @"^(auto|cpu|cuda(:\d+)?)$"), $"device must be auto, cpu, cuda or cuda:N (got '{Device}')");
        Need(Preset is null || GptPresets.All.ContainsKey(Preset), $"preset must be one of: {string.Join(", ", GptPresets.All.Keys)} (got '{Preset}')");
        foreach (var (key, value) in new[] { ("n_layer", NLayer), ("n_head", NHead), ("n_embd", NEmbd), ("n_positions", NPositions), ("vocab_size", VocabSize) })
            Need(value is null or >= 1, $"{key} must be at least 1 (got {value})");
        Need(NPositions is null || BlockSize <= NPositions, $"block_size ({BlockSize}) must not exceed n_positions ({NPositions})");
        Need(In(Dropout, 0, 1) && Dropout < 1, $"dropout must be in [0, 1) (got {Dropout})");
        Need(InitFrom is null || (Preset, NLayer, NHead, NEmbd, NPositions) == (null, null, null, null, null),
            "init_from takes the model's shape from its config.json: leave preset, n_layer, n_head, n_embd and n_positions unset");
        Need(ResumeFromCheckpoint is null || ResumeFromCheckpoint.Length > 0, "resume_from_checkpoint must be a checkpoint directory or \"latest\"");

        if (errors.Count > 0)
            throw new GptSharpException(errors.Count == 1 ? $"invalid option: {errors[0]}" : $"invalid options:\n  - {string.Join("\n  - ", errors)}");
        return this;
    }
}
