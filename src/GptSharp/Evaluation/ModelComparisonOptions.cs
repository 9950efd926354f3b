namespace GptSharp.Evaluation;

/// <summary>What <see cref="ModelComparison"/> measures on each model, and how long it may take.</summary>
public sealed record ModelComparisonOptions
{
    /// <summary>The data is plain text: loss and perplexity over every token, no replies to score.</summary>
    public bool Text { get; init; }
    /// <summary>Evaluate only the first N conversations (null: all).</summary>
    public int? Limit { get; init; }
    /// <summary>The longest generated reply when scoring replies.</summary>
    public int MaxNewTokens { get; init; } = 128;
    /// <summary>Tokens each decode-speed run generates (tg128 as llama-bench names it), capped by the model's context.</summary>
    public int DecodeTokens { get; init; } = 128;
    /// <summary>Timed runs per speed figure; the median is reported.</summary>
    public int Repetitions { get; init; } = 3;
    /// <summary>The prompt length for time to first token, capped by the model's context.</summary>
    public int PromptTokens { get; init; } = 256;

    /// <summary>Rejects values that cannot work, naming the option.</summary>
    public ModelComparisonOptions Validate()
    {
        if (Limit is < 1) throw new GptSharpException($"--limit must be at least 1, got {Limit}");
        if (MaxNewTokens < 1) throw new GptSharpException($"--max-new-tokens must be at least 1, got {MaxNewTokens}");
        if (DecodeTokens < 1) throw new GptSharpException($"--decode-tokens must be at least 1, got {DecodeTokens}");
        if (Repetitions < 1) throw new GptSharpException($"--repetitions must be at least 1, got {Repetitions}");
        if (PromptTokens < 1) throw new GptSharpException($"the prompt for time to first token must have at least 1 token, got {PromptTokens}");
        return this;
    }
}
