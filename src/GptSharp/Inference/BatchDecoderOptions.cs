namespace GptSharp.Inference;

/// <summary>How many sequences a <see cref="BatchDecoder"/> decodes together, and how much prompt it prefills per step.</summary>
public sealed record BatchDecoderOptions
{
    /// <summary>Sequences decoded together; more wait their turn.</summary>
    public int MaxBatch { get; init; } = 8;
    /// <summary>
    /// Prompt tokens prefilled per step, all joining sequences together: a long prompt goes in over several steps, so
    /// the sequences already streaming keep getting a token every step.
    /// </summary>
    public int PrefillChunk { get; init; } = 256;
    /// <summary>
    /// Finished conversations whose KV caches are kept for a follow-up that starts with the same tokens (the next turn
    /// of a chat), as llama.cpp's prompt cache; 0 keeps none.
    /// </summary>
    public int PrefixCacheEntries { get; init; } = 8;

    public BatchDecoderOptions Validate()
    {
        if (MaxBatch < 1) throw new GptSharpException($"max batch must be at least 1 (got {MaxBatch})");
        if (PrefillChunk < 1) throw new GptSharpException($"prefill chunk must be at least 1 token (got {PrefillChunk})");
        if (PrefixCacheEntries < 0) throw new GptSharpException($"prefix cache entries must be 0 or more (got {PrefixCacheEntries})");
        return this;
    }
}
