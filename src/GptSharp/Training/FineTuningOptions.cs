using System.Text.Json.Serialization;

namespace GptSharp.Training;

/// <summary>
/// Options of <see cref="FineTuning"/>: the shared <see cref="TrainingArguments"/> plus what decides the examples —
/// the window, the validation split and whether the prompt counts in the loss. The model's shape, dropout and data
/// directory are pretraining's: giving them here is an error.
/// </summary>
public sealed record FineTuningOptions : TrainingArguments
{
    /// <summary>The job's name in messages ("does not apply to fine-tuning").</summary>
    public const string JobName = "fine-tuning";

    /// <summary>The window a model directory gets when block_size is not given, unless its context is shorter.</summary>
    public const int DefaultBlockSize = 256;

    /// <summary>
    /// Tokens per example (longer conversations lose their oldest exchanges); at most the model's n_positions. Null
    /// (not given) fits the model: <see cref="DefaultBlockSize"/>, or the model's context when that is shorter.
    /// </summary>
    [JsonPropertyOrder(1)]
    public int? BlockSize { get; init; }

    /// <summary>Share of the training conversations held out for evaluation when no validation conversations are given.</summary>
    [JsonPropertyOrder(3)]
    public double ValFraction { get; init; } = 0.1;

    /// <summary>Compute the loss on every token instead of the assistant's replies only.</summary>
    [JsonPropertyOrder(3)]
    public bool TrainOnPrompt { get; init; }

    /// <summary>A JSON config file (or none) plus key=value overrides, validated; pretraining's keys are errors.</summary>
    public static new FineTuningOptions Load(string? configPath, IEnumerable<string>? overrides = null) =>
        OptionsLoader.Load<FineTuningOptions>(configPath, overrides ?? []).Validate();

    /// <inheritdoc cref="TrainingArguments.Validate"/>
    public new FineTuningOptions Validate()
    {
        ThrowIfInvalid();
        return this;
    }

    /// <summary>The window for a model with <paramref name="nPositions"/> positions: block_size if given (and it fits), else the fitted default.</summary>
    public int ResolveBlockSize(int nPositions)
    {
        if (BlockSize is not { } given) return Math.Min(DefaultBlockSize, nPositions);
        CheckFitsModel(given, nPositions);
        return given;
    }

    protected override void AddErrors(List<string> errors)
    {
        base.AddErrors(errors);
        // A window holds at least one prompt token and the token it predicts.
        if (BlockSize is < 2) errors.Add($"block_size must be at least 2 (got {BlockSize})");
        if (!(In(ValFraction, 0, 1) && ValFraction < 1)) errors.Add($"val_fraction must be in [0, 1) (got {ValFraction})");
    }
}
