using System.Text.Json.Serialization;
using GptSharp.Models;

namespace GptSharp.Training;

/// <summary>
/// Options of <see cref="Pretraining"/>: the shared <see cref="TrainingArguments"/> plus the data directory, the window,
/// and the model to train — a preset, a preset with overrides, explicit sizes, or an existing model directory
/// (init_from) — with its dropout. run.json keeps the key order it always had: checkpoints hash the options in it.
/// </summary>
public sealed record PretrainingOptions : TrainingArguments
{
    /// <summary>The job's name in messages ("does not apply to pretraining").</summary>
    public const string JobName = "pretraining";

    /// <summary>A directory made by <c>gptsharp data prepare</c> (required).</summary>
    [JsonPropertyOrder(-1)] // between resume_from_checkpoint and max_steps, where run.json has always had it
    public string DataDir { get; init; } = "";

    /// <summary>Tokens per training window (the context the model is trained on); at most the model's n_positions.</summary>
    [JsonPropertyOrder(1)]
    public int BlockSize { get; init; } = 256;

    /// <summary>One of <see cref="GptPresets.All"/>; "tiny" when neither it, the sizes nor <see cref="InitFrom"/> are given.</summary>
    [JsonPropertyOrder(3)]
    public string? Preset { get; init; }
    [JsonPropertyOrder(3)]
    public int? NLayer { get; init; }
    [JsonPropertyOrder(3)]
    public int? NHead { get; init; }
    [JsonPropertyOrder(3)]
    public int? NEmbd { get; init; }
    /// <summary>The model's context length; defaults to the preset's, or to <see cref="BlockSize"/> without a preset.</summary>
    [JsonPropertyOrder(3)]
    public int? NPositions { get; init; }
    /// <summary>Defaults to the data's vocabulary size; may be larger (e.g. padded to a multiple of 64).</summary>
    [JsonPropertyOrder(3)]
    public int? VocabSize { get; init; }
    [JsonPropertyOrder(3)]
    public double Dropout { get; init; }
    /// <summary>Start from the weights of this model directory (Hugging Face GPT-2 layout) instead of a random init.</summary>
    [JsonPropertyOrder(3)]
    public string? InitFrom { get; init; }

    /// <summary>A JSON config file (or none) plus key=value overrides, validated; fine-tuning's keys are errors.</summary>
    public static new PretrainingOptions Load(string? configPath, IEnumerable<string>? overrides = null) =>
        OptionsLoader.Load<PretrainingOptions>(configPath, overrides ?? []).Validate();

    /// <inheritdoc cref="TrainingArguments.Validate"/>
    public new PretrainingOptions Validate()
    {
        ThrowIfInvalid();
        return this;
    }

    protected override void AddErrors(List<string> errors)
    {
        base.AddErrors(errors);
        void Need(bool ok, string message) { if (!ok) errors.Add(message); }
        Need(BlockSize >= 1, $"block_size must be at least 1 (got {BlockSize})");
        Need(Preset is null || GptPresets.All.ContainsKey(Preset), $"preset must be one of: {string.Join(", ", GptPresets.All.Keys)} (got '{Preset}')");
        foreach (var (key, value) in new[] { ("n_layer", NLayer), ("n_head", NHead), ("n_embd", NEmbd), ("n_positions", NPositions), ("vocab_size", VocabSize) })
            Need(value is null or >= 1, $"{key} must be at least 1 (got {value})");
        Need(In(Dropout, 0, 1) && Dropout < 1, $"dropout must be in [0, 1) (got {Dropout})");
        Need(InitFrom is null || (Preset, NLayer, NHead, NEmbd, NPositions) == (null, null, null, null, null),
            "init_from takes the model's shape from its config.json: leave preset, n_layer, n_head, n_embd and n_positions unset");
    }
}
