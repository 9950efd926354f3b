namespace GptSharp.Tokenization;

/// <summary>Settings for <see cref="BpeTrainer"/>.</summary>
public sealed record BpeTrainerOptions
{
    /// <summary>Size of the trained vocabulary: 256 byte tokens + merges + the 5 special tokens.</summary>
    public int VocabSize { get; init; } = 8192;

    /// <summary>A pair seen fewer times than this is never merged (training then stops early, with a smaller vocabulary).</summary>
    public int MinPairFrequency { get; init; } = 2;

    public const int MinVocabSize = 256 + 5;
    public const int MaxVocabSize = 1_000_000;

    internal void Validate()
    {
        if (VocabSize is < MinVocabSize or > MaxVocabSize)
            throw new GptSharpException($"vocab_size must be between {MinVocabSize} (256 byte tokens + 5 special tokens) and {MaxVocabSize}, got {VocabSize}");
        if (MinPairFrequency < 1) throw new GptSharpException($"min_pair_frequency must be at least 1, got {MinPairFrequency}");
    }
}

public enum BpeTrainingStage { CountingWords, Merging, Done }

/// <summary>
/// Where training is: while counting words, <see cref="Completed"/>/<see cref="Total"/> are bytes of input read;
/// while merging they are merges made out of the merges wanted.
/// </summary>
public readonly record struct BpeTrainingProgress(BpeTrainingStage Stage, long Completed, long Total);
