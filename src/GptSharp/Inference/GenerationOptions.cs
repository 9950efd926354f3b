namespace GptSharp.Inference;

/// <summary>
/// Decoding settings. Names and defaults follow Hugging Face's <c>generation_config.json</c> where they exist
/// (max_new_tokens, do_sample, temperature, top_k, top_p), except that sampling is on by default.
/// </summary>
public sealed record GenerationOptions
{
    /// <summary>The most tokens to generate; generation also stops at end-of-text or when the context is full.</summary>
    public int MaxNewTokens { get; init; } = 100;

    /// <summary>False: always take the most likely token (greedy), ignoring temperature, top_k and top_p.</summary>
    public bool DoSample { get; init; } = true;

    /// <summary>Divides the logits before sampling; below 1 sharpens, above 1 flattens. 0 means greedy.</summary>
    public double Temperature { get; init; } = 1.0;

    /// <summary>Sample only among the k most likely tokens; 0 turns the filter off.</summary>
    public int TopK { get; init; } = 50;

    /// <summary>Nucleus sampling: keep the smallest set of most likely tokens whose probability reaches p; 1 turns it off.</summary>
    public double TopP { get; init; } = 1.0;

    /// <summary>Seeds the sampler so the same prompt gives the same output; null picks a random seed.</summary>
    public long? Seed { get; init; }

    /// <summary>Stop (without emitting it) when the model produces the end-of-text token.</summary>
    public bool StopAtEndOfText { get; init; } = true;

    /// <summary>Reuse past keys/values (one position of work per token). Off recomputes the whole sequence each step, with the same output.</summary>
    public bool UseCache { get; init; } = true;

    /// <summary>True when decoding takes the argmax: sampling is off or the temperature is 0.</summary>
    public bool IsGreedy => !DoSample || Temperature == 0;

    /// <summary>Throws a <see cref="GptSharpException"/> naming the first invalid option.</summary>
    public GenerationOptions Validate()
    {
        static void Need(bool ok, string what) { if (!ok) throw new GptSharpException($"invalid generation option: {what}"); }
        Need(MaxNewTokens >= 1, $"max_new_tokens must be at least 1 (got {MaxNewTokens})");
        Need(Temperature >= 0 && double.IsFinite(Temperature), $"temperature must be a finite number >= 0, where 0 means greedy (got {Temperature})");
        Need(TopK >= 0, $"top_k must be >= 0, where 0 turns it off (got {TopK})");
        Need(TopP > 0 && TopP <= 1, $"top_p must be in (0, 1], where 1 turns it off (got {TopP})");
        return this;
    }
}
