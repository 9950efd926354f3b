using System.Runtime.CompilerServices;
using GptSharp.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Inference;

/// <summary>
/// Autoregressive decoding with a <see cref="Gpt"/>: the prompt goes through the model in one forward pass (the
/// "prefill"), then each step feeds the token just chosen and picks the next one. With the KV cache on (the default)
/// a step costs one position of work; with it off the whole sequence is recomputed, giving the same tokens.
/// Generation stops after <see cref="GenerationOptions.MaxNewTokens"/>, at the end-of-text token, or when the
/// model's context is full.
/// </summary>
public sealed class TextGenerator
{
    readonly Gpt _model;
    readonly Device _device;

    /// <param name="model">The model, already on its device; it is put in eval mode while generating and restored afterwards.</param>
    /// <param name="endOfTextId">The tokenizer's end-of-text id (<c>&lt;|endoftext|&gt;</c>), or null when there is none.</param>
    public TextGenerator(Gpt model, int? endOfTextId = null)
    {
        _model = model;
        _device = model.Device; // read once: each read wraps the weight in a new tensor handle
        if (endOfTextId is { } id && (id < 0 || id >= model.Config.VocabSize))
            throw new GptSharpException($"end-of-text id {id} is outside the model's vocabulary (0..{model.Config.VocabSize - 1})");
        EndOfTextId = endOfTextId;
    }

    public int? EndOfTextId { get; }

    /// <summary>The new token ids (neither the prompt nor the end-of-text token that stopped generation).</summary>
    public int[] Generate(IReadOnlyList<int> prompt, GenerationOptions? options = null, CancellationToken ct = default)
    {
        var (ids, o) = Prepare(prompt, options);
        return Decode(ids, o, ct).ToArray();
    }

    /// <summary>
    /// Yields each new token id as soon as it is chosen. Each step runs synchronously when the next token is asked
    /// for; cancelling <paramref name="ct"/> or leaving the loop early frees the KV cache at once.
    /// Options and prompt are checked here, before the first token is asked for.
    /// </summary>
    public IAsyncEnumerable<int> StreamAsync(IReadOnlyList<int> prompt, GenerationOptions? options = null, CancellationToken ct = default)
    {
        var (ids, o) = Prepare(prompt, options);
        return Stream(ids, o, ct);
    }

    async IAsyncEnumerable<int> Stream(int[] prompt, GenerationOptions options, [EnumeratorCancellation] CancellationToken ct)
    {
        // Disposing this enumerator (early exit, cancellation, error) runs Decode's finally blocks, which free the cache.
        foreach (int id in Decode(prompt, options, ct)) yield return id;
    }

    (int[] Prompt, GenerationOptions Options) Prepare(IReadOnlyList<int> prompt, GenerationOptions? options)
    {
        var o = (options ?? new GenerationOptions()).Validate();
        int context = _model.Config.BlockSize, vocab = _model.Config.VocabSize;
        // Like GPT-2, an empty prompt starts from the end-of-text token, which also marks the start of a document.
        int[] ids = prompt.Count > 0 ? [.. prompt]
            : EndOfTextId is { } eot ? [eot]
            : throw new GptSharpException("the prompt is empty and the model has no end-of-text token to start from");
        if (ids.Length > context)
            throw new GptSharpException($"the prompt has {ids.Length} tokens but the model's context holds only {context} (n_positions)");
        int bad = Array.FindIndex(ids, t => t < 0 || t >= vocab);
        if (bad >= 0)
            throw new GptSharpException($"prompt token {bad} has id {ids[bad]}, outside the model's vocabulary (0..{vocab - 1})");
        return (ids, o);
    }

    IEnumerable<int> Decode(int[] prompt, GenerationOptions o, CancellationToken ct)
    {
        var config = _model.Config;
        bool wasTraining = _model.training;
        _model.eval();
        using var rng = new torch.Generator((ulong)(o.Seed ?? Random.Shared.NextInt64()), _device);
        // The last new token is never fed back, so the cache never needs more than prompt + max_new_tokens positions.
        using var cache = o.UseCache ? new KvCache(config.NLayer, Math.Min(config.BlockSize, prompt.Length + o.MaxNewTokens)) : null;
        var tokens = new List<int>(prompt);
        try
        {
            // A step needs every token so far inside the context; the token it picks may take the last position.
            for (int step = 0; step < o.MaxNewTokens && tokens.Count <= config.BlockSize; step++)
            {
                ct.ThrowIfCancellationRequested();
                int next = NextToken(tokens, cache, o, rng);
                if (o.StopAtEndOfText && next == EndOfTextId) yield break;
                tokens.Add(next);
                yield return next;
            }
        }
        finally
        {
            if (wasTraining) _model.train();
        }
    }

    /// <summary>One decoding step. Self-contained (grad mode and dispose scopes are per thread), so steps may run on different threads.</summary>
    int NextToken(List<int> tokens, KvCache? cache, GenerationOptions o, torch.Generator rng)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        // With a cache only the tokens it has not seen go in: the whole prompt first, then one token per step.
        int seen = cache?.Length ?? 0;
        long[] fresh = tokens.Skip(seen).Select(t => (long)t).ToArray();
        var input = tensor(fresh, [1, fresh.Length], ScalarType.Int64, _device);
        var logits = _model.Forward(input, cache, lastPositionOnly: true);
        return (int)Sampling.NextToken(logits[0, -1], o, rng);
    }
}
