using System.Text.Json.Serialization;

namespace GptSharp.Training;

/// <summary>
/// Options of distillation (<c>Distillation.Distiller</c>): the shared <see cref="TrainingArguments"/>, the examples'
/// window and split as fine-tuning's, the student (a depth, explicit teacher layers, or a config file), the loss —
/// DistilGPT2's defaults (Sanh et al. 2019): temperature 2, alpha_ce 0.5, alpha_clm 0.5, alpha_cos 0 — its divergence
/// (beta, as TRL's GKD) and on-policy fraction (lmbda), and how the teacher computes. The teacher and data are the
/// job's inputs, not options.
/// </summary>
public sealed record DistillationOptions : TrainingArguments
{
    /// <summary>The job's name in messages ("does not apply to distillation").</summary>
    public const string JobName = "distillation";

    /// <summary>The teacher's precisions: fp32, or bf16 / int8 to spend less time on it.</summary>
    public static readonly IReadOnlyList<string> TeacherPrecisions = ["fp32", "bf16", "int8"];

    /// <summary>Tokens per example or window; null fits the models (256, or the shorter context of teacher and student).</summary>
    [JsonPropertyOrder(1)]
    public int? BlockSize { get; init; }

    /// <summary>Share of the training conversations held out for evaluation (dialogues without validation data).</summary>
    [JsonPropertyOrder(3)]
    public double ValFraction { get; init; } = 0.1;

    /// <summary>Dialogues: the loss covers every token instead of the assistant's replies only.</summary>
    [JsonPropertyOrder(3)]
    public bool TrainOnPrompt { get; init; }

    /// <summary>The student's depth: that many of the teacher's layers, evenly spread (12 → 6 takes 0, 2, 4, 7, 9, 11).</summary>
    [JsonPropertyOrder(3)]
    public int? StudentLayers { get; init; }

    /// <summary>The teacher's layers the student starts from, increasing (instead of <see cref="StudentLayers"/>).</summary>
    [JsonPropertyOrder(3)]
    public int[]? StudentLayerIndices { get; init; }

    /// <summary>A model config (GptConfig or Hugging Face config.json) for a freshly initialised student of other widths.</summary>
    [JsonPropertyOrder(3)]
    public string? StudentConfig { get; init; }

    /// <summary>The student's dropout; null keeps its config's (for a student of teacher layers, the teacher's).</summary>
    [JsonPropertyOrder(3)]
    public double? Dropout { get; init; }

    /// <summary>Softens both distributions before comparing them; the divergence is scaled by its square (Hinton et al. 2015).</summary>
    [JsonPropertyOrder(3)]
    public double Temperature { get; init; } = 2.0;

    /// <summary>Weight of the divergence from the teacher's softened distribution.</summary>
    [JsonPropertyOrder(3)]
    public double AlphaCe { get; init; } = 0.5;

    /// <summary>Weight of the usual next-token cross-entropy on the data.</summary>
    [JsonPropertyOrder(3)]
    public double AlphaClm { get; init; } = 0.5;

    /// <summary>Weight of the cosine loss between student and teacher last hidden states (needs the same n_embd).</summary>
    [JsonPropertyOrder(3)]
    public double AlphaCos { get; init; }

    /// <summary>Generalized Jensen–Shannon divergence's interpolation: 0 is forward KL(teacher ‖ student), 1 reverse KL.</summary>
    [JsonPropertyOrder(3)]
    public double Beta { get; init; }

    /// <summary>Share of batches whose replies the student samples itself, scored by the teacher (on-policy, Agarwal et al. 2024).</summary>
    [JsonPropertyOrder(3)]
    public double Lmbda { get; init; }

    /// <summary>On-policy batches: the most tokens the student samples per reply.</summary>
    [JsonPropertyOrder(3)]
    public int MaxNewTokens { get; init; } = 64;

    /// <summary>On-policy batches: the temperature the student samples its replies at.</summary>
    [JsonPropertyOrder(3)]
    public double SamplingTemperature { get; init; } = 1.0;

    /// <summary>How the teacher computes: fp32, bf16 or int8 (weight-only; faster on CPU, slightly less exact).</summary>
    [JsonPropertyOrder(3)]
    public string TeacherPrecision { get; init; } = "fp32";

    /// <summary>A JSON config file (or none) plus key=value overrides, validated; other jobs' keys are errors.</summary>
    public static new DistillationOptions Load(string? configPath, IEnumerable<string>? overrides = null) =>
        OptionsLoader.Load<DistillationOptions>(configPath, overrides ?? []).Validate();

    /// <inheritdoc cref="TrainingArguments.Validate"/>
    public new DistillationOptions Validate()
    {
        ThrowIfInvalid();
        return this;
    }

    protected override void AddErrors(List<string> errors)
    {
        base.AddErrors(errors);
        void Need(bool ok, string message) { if (!ok) errors.Add(message); }
        Need(BlockSize is null or >= 2, $"block_size must be at least 2 (got {BlockSize})");
        Need(In(ValFraction, 0, 1) && ValFraction < 1, $"val_fraction must be in [0, 1) (got {ValFraction})");
        int students = (StudentLayers is null ? 0 : 1) + (StudentLayerIndices is null ? 0 : 1) + (StudentConfig is null ? 0 : 1);
        Need(students == 1, students == 0
            ? "the student is missing: give student_layers (--student-layers N), student_layer_indices or student_config (--student-config FILE)"
            : "student_layers, student_layer_indices and student_config contradict each other: give one of them");
        Need(StudentLayers is null or >= 1, $"student_layers must be at least 1 (got {StudentLayers})");
        if (StudentLayerIndices is { } indices)
        {
            Need(indices.Length > 0, "student_layer_indices must name at least one teacher layer");
            Need(indices.All(i => i >= 0), $"student_layer_indices must be 0 or positive (got [{string.Join(", ", indices)}])");
            Need(indices.Zip(indices.Skip(1)).All(p => p.First < p.Second),
                $"student_layer_indices must be strictly increasing (got [{string.Join(", ", indices)}])");
        }
        Need(StudentConfig is null || StudentConfig.Trim().Length > 0, "student_config must be a file path");
        Need(Dropout is null || (In(Dropout.Value, 0, 1) && Dropout < 1), $"dropout must be in [0, 1) (got {Dropout})");
        Need(Temperature > 0 && double.IsFinite(Temperature), $"temperature must be positive (got {Temperature})");
        foreach (var (key, value) in new[] { ("alpha_ce", AlphaCe), ("alpha_clm", AlphaClm), ("alpha_cos", AlphaCos) })
            Need(value >= 0 && double.IsFinite(value), $"{key} must be 0 or positive (got {value})");
        Need(!(AlphaCe == 0 && AlphaClm == 0 && AlphaCos == 0), "alpha_ce, alpha_clm and alpha_cos are all 0: the student would learn nothing; give at least one a positive weight");
        Need(In(Beta, 0, 1), $"beta must be in [0, 1] (got {Beta})");
        Need(In(Lmbda, 0, 1), $"lmbda must be in [0, 1] (got {Lmbda})");
        // An on-policy reply is the student's own: only the teacher's distribution over it teaches anything.
        Need(Lmbda == 0 || AlphaCe > 0, $"lmbda > 0 needs alpha_ce > 0: on-policy batches learn only from the teacher's distribution (got lmbda {Lmbda}, alpha_ce {AlphaCe})");
        Need(MaxNewTokens >= 1, $"max_new_tokens must be at least 1 (got {MaxNewTokens})");
        Need(SamplingTemperature > 0 && double.IsFinite(SamplingTemperature), $"sampling_temperature must be positive (got {SamplingTemperature})");
        Need(TeacherPrecisions.Contains(TeacherPrecision), $"teacher_precision must be one of: {string.Join(", ", TeacherPrecisions)} (got '{TeacherPrecision}')");
    }
}
