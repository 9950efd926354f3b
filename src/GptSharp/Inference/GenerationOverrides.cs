namespace GptSharp.Inference;

/// <summary>
/// Decoding settings asked for by a caller (command-line options, a chat request), each null when not asked for; see
/// <see cref="GenerationOptions.Override"/> for how they go over a model's defaults.
/// </summary>
public sealed record GenerationOverrides
{
    public int? MaxNewTokens { get; init; }
    public double? Temperature { get; init; }
    public int? TopK { get; init; }
    public double? TopP { get; init; }
    public long? Seed { get; init; }
    /// <summary>True: always take the most likely token (do_sample false). False or null: the sampling rule of <see cref="GenerationOptions.Override"/>.</summary>
    public bool? Greedy { get; init; }
    public int? MinNewTokens { get; init; }
    public double? RepetitionPenalty { get; init; }
    public int? NoRepeatNgramSize { get; init; }
    public double? PresencePenalty { get; init; }
    public double? FrequencyPenalty { get; init; }
    public IReadOnlyDictionary<int, double>? LogitBias { get; init; }
    public double? MinP { get; init; }
    public IReadOnlyList<string>? StopSequences { get; init; }
    public int? NumBeams { get; init; }
    public int? NumReturnSequences { get; init; }
    public double? LengthPenalty { get; init; }
    public PromptOverflow? PromptOverflow { get; init; }

    /// <summary>True when a sampling setting (temperature, top_k, top_p, min_p) is asked for.</summary>
    public bool AsksForSampling => Temperature is not null || TopK is not null || TopP is not null || MinP is not null;
}
