namespace GptSharp.Models;

/// <summary>The shape of a GPT-2 model. Names follow Hugging Face's GPT-2 config.json where they exist.</summary>
public sealed record GptConfig
{
    public int VocabSize { get; init; } = 50257;
    /// <summary>Context length: the most positions the model has embeddings for (HF `n_positions`).</summary>
    public int BlockSize { get; init; } = 1024;
    public int NLayer { get; init; } = 12;
    public int NHead { get; init; } = 12;
    public int NEmbd { get; init; } = 768;
    /// <summary>Dropout on embeddings, attention weights and residual branches (HF splits these three; we keep one value).</summary>
    public double Dropout { get; init; }
    public double LayerNormEpsilon { get; init; } = 1e-5;

    public int HeadSize => NEmbd / NHead;

    /// <summary>Throws a <see cref="GptSharpException"/> naming the first invalid field.</summary>
    public GptConfig Validate()
    {
        static void Need(bool ok, string what) { if (!ok) throw new GptSharpException($"invalid model config: {what}"); }
        Need(VocabSize > 0, $"vocab_size must be positive (got {VocabSize})");
        Need(BlockSize > 0, $"n_positions must be positive (got {BlockSize})");
        Need(NLayer > 0, $"n_layer must be positive (got {NLayer})");
        Need(NHead > 0, $"n_head must be positive (got {NHead})");
        Need(NEmbd > 0 && NEmbd % NHead == 0, $"n_embd ({NEmbd}) must be a positive multiple of n_head ({NHead})");
        Need(Dropout is >= 0 and < 1, $"dropout must be in [0, 1) (got {Dropout})");
        Need(LayerNormEpsilon > 0, $"layer_norm_epsilon must be positive (got {LayerNormEpsilon})");
        return this;
    }
}
