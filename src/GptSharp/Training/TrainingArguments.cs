using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using GptSharp.Data;
using GptSharp.Training.Schedules;

namespace GptSharp.Training;

/// <summary>
/// The options every training job shares, as Hugging Face's <c>TrainingArguments</c>: the loop's length, the optimizer,
/// the learning-rate schedule, logging / evaluation / checkpoint cadence, output_dir, seed and device. JSON names are
/// snake_case and follow Hugging Face's where one exists. Each job adds its own keys: <see cref="PretrainingOptions"/>
/// (data, model shape, init, dropout), <see cref="FineTuningOptions"/> (train on prompt, validation split, block
/// size) and <see cref="DistillationOptions"/> (the student, the loss, the teacher's precision); a key of another job
/// is an error. Load a config file plus <c>key=value</c> overrides with <c>Load</c>;
/// <see cref="Validate"/> reports every bad value at once, naming the key and its allowed range.
/// </summary>
public record TrainingArguments
{
    // Run. The orders keep run.json's keys where they have always been (checkpoints hash them): a job's keys go between.
    [JsonPropertyOrder(-2)]
    public string OutputDir { get; init; } = "";
    [JsonPropertyOrder(-2)]
    public bool OverwriteOutputDir { get; init; }
    /// <summary>A checkpoint directory, or "latest" for the newest <c>checkpoint-N</c> in <see cref="OutputDir"/> (a fresh start if none).</summary>
    [JsonPropertyOrder(-2)]
    public string? ResumeFromCheckpoint { get; init; }

    // Length of the run: max_steps or num_train_epochs, not both (neither: DefaultMaxSteps).
    public const int DefaultMaxSteps = 1000;
    readonly int? _maxSteps;
    /// <summary>
    /// Optimizer steps to run. With <see cref="NumTrainEpochs"/> instead, this reads 0: the Trainer resolves the length from
    /// the train data's size (<see cref="ResolveMaxSteps"/>).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int MaxSteps { get => _maxSteps ?? (NumTrainEpochs is null ? DefaultMaxSteps : 0); init => _maxSteps = value; }
    /// <summary>Passes over the train data (fractions allowed); needs a train source that knows its size.</summary>
    public double? NumTrainEpochs { get; init; }

    /// <summary>Whether max_steps or num_train_epochs was given (otherwise the length is a default the caller may choose).</summary>
    [JsonIgnore]
    public bool LengthGiven => _maxSteps is not null || NumTrainEpochs is not null;

    // Optimisation
    public int PerDeviceTrainBatchSize { get; init; } = 8;
    public int GradientAccumulationSteps { get; init; } = 1;
    /// <summary>
    /// Grows the effective batch during the run (<see cref="Training.BatchSizeSchedule"/>); null keeps
    /// per_device_train_batch_size × gradient_accumulation_steps throughout. Omitted from run.json when null, so the
    /// options hash of runs without it is what it always was.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public BatchSizeSchedule? BatchSizeSchedule { get; init; }
    public double LearningRate { get; init; } = 6e-4;
    /// <summary>One of <see cref="TrainingOptimizers.Names"/>: adamw, adam, sgd, rmsprop.</summary>
    public string Optim { get; init; } = "adamw";
    /// <summary>Weight decay on 2-D parameters only (matrices and embeddings), as nanoGPT: decoupled for adamw, an L2 term otherwise.</summary>
    public double WeightDecay { get; init; } = 0.1;
    public double AdamBeta1 { get; init; } = 0.9;
    public double AdamBeta2 { get; init; } = 0.95;
    public double AdamEpsilon { get; init; } = 1e-8;
    public double SgdMomentum { get; init; }
    public double SgdDampening { get; init; }
    /// <summary>Nesterov momentum; needs sgd_momentum &gt; 0 and sgd_dampening = 0.</summary>
    public bool SgdNesterov { get; init; }
    /// <summary>RMSprop's smoothing constant for the squared-gradient average.</summary>
    public double RmspropAlpha { get; init; } = 0.99;
    public double RmspropMomentum { get; init; }
    public double RmspropEpsilon { get; init; } = 1e-8;
    /// <summary>Clip the global gradient norm to this; 0 turns clipping off.</summary>
    public double MaxGradNorm { get; init; } = 1.0;
    public string LrSchedulerType { get; init; } = "cosine";
    public int WarmupSteps { get; init; }
    /// <summary>Warmup as a fraction of the run's steps (rounded up); an alternative to <see cref="WarmupSteps"/>.</summary>
    public double WarmupRatio { get; init; }
    /// <summary>cosine's floor as a fraction of <see cref="LearningRate"/>.</summary>
    public double MinLrRatio { get; init; } = 0.1;
    /// <summary>step: multiply the rate by <see cref="Gamma"/> every this many steps after warmup (required for step).</summary>
    public int? StepSize { get; init; }
    /// <summary>step and exponential: the decay factor.</summary>
    public double Gamma { get; init; } = 0.1;

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
    /// <summary>
    /// final/ gets the weights of the best checkpoint by val loss (or the last step's, when better). Needs save_steps a
    /// positive multiple of eval_steps, so every checkpoint has a val loss; rotation never deletes the best checkpoint.
    /// </summary>
    public bool LoadBestModelAtEnd { get; init; }
    /// <summary>Stop after this many evaluations in a row without a lower val loss; null never stops early.</summary>
    public int? EarlyStoppingPatience { get; init; }
    public long Seed { get; init; } = 1337;
    /// <summary>Run matmuls in bfloat16 while parameters and optimizer state stay float32.</summary>
    public bool Bf16 { get; init; }
    /// <summary>"auto" (CUDA when available, else CPU), "cpu", "cuda" or "cuda:N".</summary>
    [JsonPropertyOrder(2)]
    public string Device { get; init; } = "auto";

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
        "load_best_model_at_end", "early_stopping_patience",
    ];

    /// <summary>A JSON config file (or none) plus key=value overrides, validated; only the shared keys apply.</summary>
    public static TrainingArguments Load(string? configPath, IEnumerable<string>? overrides = null) =>
        OptionsLoader.Load<TrainingArguments>(configPath, overrides ?? []).Validate();

    /// <summary>The resolved options as run.json holds them (every key of the job, snake_case).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, GetType(), Json);

    /// <summary>The options that decide the training trajectory (everything but paths, logging and checkpoint cadence).</summary>
    public JsonObject TrajectoryOptions()
    {
        var all = JsonSerializer.SerializeToNode(this, GetType(), Json)!.AsObject();
        foreach (var k in ResumeIndependentKeys) all.Remove(k);
        return all;
    }

    public static string Hash(JsonObject trajectoryOptions) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(trajectoryOptions.ToJsonString())));

    /// <summary>
    /// The run's optimizer steps: max_steps, or ⌈num_train_epochs · batches per epoch / gradient_accumulation_steps⌉
    /// given the train source's size: <paramref name="batchesPerEpoch"/> maps a batch size to the batches that cover the
    /// data once (<see cref="Data.IBatchSource.StepsPerEpoch"/>). With a batch_size_schedule the steps are counted until
    /// the schedule's batches add up to the epochs' sequences.
    /// The run's length is only known here with num_train_epochs, so warmup_steps is checked against it here too.
    /// </summary>
    public int ResolveMaxSteps(Func<int, long?> batchesPerEpoch)
    {
        if (NumTrainEpochs is not { } epochs) return MaxSteps;
        int batch = BatchSizeSchedule is null ? PerDeviceTrainBatchSize : 1;
        if (batchesPerEpoch(batch) is not { } n || n < 1)
            throw new GptSharpException("num_train_epochs needs a train source that knows its size, and this one does not: give max_steps instead");
        double steps = BatchSizeSchedule is { } schedule
            ? schedule.StepsFor(epochs * n, PerDeviceTrainBatchSize)
            : Math.Ceiling(epochs * n / GradientAccumulationSteps);
        if (steps > int.MaxValue) throw new GptSharpException($"num_train_epochs = {epochs} makes {steps} steps, more than {int.MaxValue}");
        int maxSteps = Math.Max(1, (int)steps);
        if (WarmupError(maxSteps) is { } error)
            throw new GptSharpException($"invalid option: {error[..^1]}; num_train_epochs = {epochs} makes {maxSteps} steps)");
        return maxSteps;
    }

    /// <summary>The batch of optimizer step <paramref name="step"/> (1-based) after <paramref name="tokensSeen"/> tokens: the schedule's, or the fixed one.</summary>
    public BatchShape BatchAt(int step, long tokensSeen) =>
        BatchSizeSchedule?.At(step, tokensSeen, PerDeviceTrainBatchSize) ?? new BatchShape(PerDeviceTrainBatchSize, GradientAccumulationSteps);

    /// <summary>The one rule between warmup_steps and the run's length (null when it holds).</summary>
    string? WarmupError(int maxSteps) =>
        WarmupSteps >= 0 && WarmupSteps <= maxSteps ? null : $"warmup_steps must be in [0, max_steps = {maxSteps}] (got {WarmupSteps})";

    /// <summary>warmup_steps, or ⌈warmup_ratio · max_steps⌉.</summary>
    public int ResolveWarmupSteps(int maxSteps) => WarmupSteps > 0 ? WarmupSteps : (int)Math.Ceiling(WarmupRatio * maxSteps);

    /// <summary>Throws a <see cref="GptSharpException"/> listing every invalid option with its allowed range.</summary>
    public TrainingArguments Validate()
    {
        ThrowIfInvalid();
        return this;
    }

    /// <summary>Collects the errors of the shared keys and of the job's own (<see cref="AddErrors"/>), then throws them all at once.</summary>
    protected void ThrowIfInvalid()
    {
        var errors = new List<string>();
        AddErrors(errors);
        if (errors.Count > 0)
            throw new GptSharpException(errors.Count == 1 ? $"invalid option: {errors[0]}" : $"invalid options:\n  - {string.Join("\n  - ", errors)}");
    }

    /// <summary>Adds a message for every invalid value; a job's options add their own keys' after the shared ones.</summary>
    protected virtual void AddErrors(List<string> errors)
    {
        void Need(bool ok, string message) { if (!ok) errors.Add(message); }

        Need(!string.IsNullOrWhiteSpace(OutputDir), "output_dir is required");
        if (_maxSteps is not null && NumTrainEpochs is not null)
            errors.Add($"max_steps and num_train_epochs contradict each other (got {_maxSteps} and {NumTrainEpochs}): give one of them, " +
                "max_steps for a number of optimizer steps or num_train_epochs for passes over the train data");
        else if (NumTrainEpochs is { } epochs)
            Need(epochs > 0 && double.IsFinite(epochs), $"num_train_epochs must be positive (got {epochs})");
        else
            Need(MaxSteps >= 1, $"max_steps must be at least 1 (got {MaxSteps})");
        Need(PerDeviceTrainBatchSize >= 1, $"per_device_train_batch_size must be at least 1 (got {PerDeviceTrainBatchSize})");
        Need(GradientAccumulationSteps >= 1, $"gradient_accumulation_steps must be at least 1 (got {GradientAccumulationSteps})");
        BatchSizeSchedule?.AddErrors(errors, Math.Max(1, PerDeviceTrainBatchSize), GradientAccumulationSteps, NumTrainEpochs is not null && _maxSteps is null);
        Need(LearningRate > 0 && LearningRate <= 1, $"learning_rate must be in (0, 1] (got {LearningRate})");
        Need(In(WeightDecay, 0, 1), $"weight_decay must be in [0, 1] (got {WeightDecay})");
        Need(In(AdamBeta1, 0, 1) && AdamBeta1 < 1, $"adam_beta1 must be in [0, 1) (got {AdamBeta1})");
        Need(In(AdamBeta2, 0, 1) && AdamBeta2 < 1, $"adam_beta2 must be in [0, 1) (got {AdamBeta2})");
        Need(AdamEpsilon > 0 && AdamEpsilon <= 1, $"adam_epsilon must be in (0, 1] (got {AdamEpsilon})");
        Need(TrainingOptimizers.Names.Contains(Optim), $"optim must be one of: {string.Join(", ", TrainingOptimizers.Names)} (got '{Optim}')");
        Need(In(SgdMomentum, 0, 1) && SgdMomentum < 1, $"sgd_momentum must be in [0, 1) (got {SgdMomentum})");
        Need(In(SgdDampening, 0, 1), $"sgd_dampening must be in [0, 1] (got {SgdDampening})");
        Need(!SgdNesterov || SgdMomentum > 0, $"sgd_nesterov requires sgd_momentum > 0 (got {SgdMomentum})");
        Need(!SgdNesterov || SgdDampening == 0, $"sgd_nesterov requires sgd_dampening = 0 (got {SgdDampening})");
        Need(In(RmspropAlpha, 0, 1), $"rmsprop_alpha must be in [0, 1] (got {RmspropAlpha})");
        Need(In(RmspropMomentum, 0, 1) && RmspropMomentum < 1, $"rmsprop_momentum must be in [0, 1) (got {RmspropMomentum})");
        Need(RmspropEpsilon > 0 && RmspropEpsilon <= 1, $"rmsprop_epsilon must be in (0, 1] (got {RmspropEpsilon})");
        Need(MaxGradNorm >= 0 && double.IsFinite(MaxGradNorm), $"max_grad_norm must be 0 (off) or positive (got {MaxGradNorm})");
        Need(LearningRateSchedules.Names.Contains(LrSchedulerType),
            $"lr_scheduler_type must be one of: {string.Join(", ", LearningRateSchedules.Names)} (got '{LrSchedulerType}')");
        if (NumTrainEpochs is null || _maxSteps is not null)
        {
            if (WarmupError(MaxSteps) is { } warmup) errors.Add(warmup);
        }
        else
            Need(WarmupSteps >= 0, $"warmup_steps must be 0 or positive (got {WarmupSteps})");
        Need(In(WarmupRatio, 0, 1) && WarmupRatio < 1, $"warmup_ratio must be in [0, 1) (got {WarmupRatio})");
        Need(WarmupSteps == 0 || WarmupRatio == 0,
            $"warmup_steps and warmup_ratio contradict each other (got {WarmupSteps} and {WarmupRatio}): give one of them");
        Need(StepSize is null or >= 1, $"step_size must be at least 1 (got {StepSize})");
        Need(LrSchedulerType != "step" || StepSize is not null, "lr_scheduler_type step needs step_size (decay every step_size steps)");
        Need(Gamma > 0 && Gamma <= 1, $"gamma must be in (0, 1] (got {Gamma})");
        Need(In(MinLrRatio, 0, 1), $"min_lr_ratio must be in [0, 1] (got {MinLrRatio})");
        Need(LoggingSteps >= 1, $"logging_steps must be at least 1 (got {LoggingSteps})");
        Need(EvalSteps >= 0, $"eval_steps must be 0 (only at the end) or positive (got {EvalSteps})");
        Need(EvalIters >= 1, $"eval_iters must be at least 1 (got {EvalIters})");
        Need(SaveSteps >= 0, $"save_steps must be 0 (only final/) or positive (got {SaveSteps})");
        Need(SaveTotalLimit is null or >= 1, $"save_total_limit must be null (keep all) or at least 1 (got {SaveTotalLimit})");
        Need(EarlyStoppingPatience is null or >= 1, $"early_stopping_patience must be null (off) or at least 1 (got {EarlyStoppingPatience})");
        Need(EarlyStoppingPatience is null || EvalSteps > 0,
            $"early_stopping_patience counts evaluations: it needs eval_steps > 0 (got {EvalSteps})");
        Need(!LoadBestModelAtEnd || (EvalSteps > 0 && SaveSteps > 0 && SaveSteps % EvalSteps == 0),
            $"load_best_model_at_end needs eval_steps > 0 and save_steps a positive multiple of it, so every checkpoint has a val loss (got eval_steps {EvalSteps}, save_steps {SaveSteps})");
        Need(System.Text.RegularExpressions.Regex.IsMatch(Device, @"^(auto|cpu|cuda(:\d+)?)$"), $"device must be auto, cpu, cuda or cuda:N (got '{Device}')");
        Need(ResumeFromCheckpoint is null || ResumeFromCheckpoint.Length > 0, "resume_from_checkpoint must be a checkpoint directory or \"latest\"");
    }

    /// <summary>In [lo, hi]; false for NaN.</summary>
    protected static bool In(double v, double lo, double hi) => v >= lo && v <= hi;

    /// <summary>The one rule between a job's block_size and its model's context.</summary>
    internal static void CheckFitsModel(int blockSize, int nPositions, string hint = "")
    {
        if (blockSize > nPositions)
            throw new GptSharpException($"block_size ({blockSize}) exceeds the model's n_positions ({nPositions}){hint}");
    }
}
