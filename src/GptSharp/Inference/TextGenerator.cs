using System.Runtime.CompilerServices;
using GptSharp.Models;
using GptSharp.Native;
using GptSharp.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Inference;

/// <summary>
/// Autoregressive decoding with a <see cref="Gpt"/>: the prompt goes through the model in one forward pass (the
/// "prefill"), then each step feeds the token just chosen and picks the next one. With the KV cache on (the default)
/// a step costs one position of work; with it off the whole sequence is recomputed, giving the same tokens.
/// Generation stops after <see cref="GenerationOptions.MaxNewTokens"/>, at an end token (any of <see cref="EndIds"/>),
/// at a stop sequence, or when the model's context is full. <see cref="GenerationOptions.NumBeams"/> above 1 runs beam search.
/// A prompt too long for the context is an error or loses its oldest tokens, as <see cref="GenerationOptions.PromptOverflow"/>
/// says; every entry point (plain, batched, streamed, beam search) treats it the same way. An empty prompt starts from
/// the end-of-text token, as GPT-2 does; without one it is an error.
/// <para>Text streams from <see cref="StreamTextAsync(IReadOnlyList{int}, GenerationOptions?, CancellationToken)"/>: one
/// <see cref="TextDelta"/> per token, the last saying why generation ended. Generate, Complete and batches decode the
/// same way, and agree with it.</para>
/// </summary>
public sealed class TextGenerator
{
    readonly Gpt? _model; // null for a scripted generator (tests)
    readonly Device _device;
    readonly int _blockSize, _vocabSize;
    readonly Picker? _script;

    /// <summary>Chooses the next token from the tokens so far (prompt and output), of which <paramref name="step"/> are new: a model stand-in for tests.</summary>
    internal delegate int Picker(IReadOnlyList<int> tokens, int step, GenerationOptions options, CancellationToken ct);

    /// <param name="model">The model, already on its device; it is put in eval mode while generating and restored afterwards.</param>
    /// <param name="endOfTextId">The tokenizer's end-of-text id (<c>&lt;|endoftext|&gt;</c>), or null when there is none.</param>
    public TextGenerator(Gpt model, int? endOfTextId = null)
    {
        _model = model;
        _device = model.Device; // read once: each read wraps the weight in a new tensor handle
        (_blockSize, _vocabSize) = (model.Config.BlockSize, model.Config.VocabSize);
        if (endOfTextId is { } id && (id < 0 || id >= model.Config.VocabSize))
            throw new GptSharpException($"end-of-text id {id} is outside the model's vocabulary (0..{model.Config.VocabSize - 1})");
        EndOfTextId = endOfTextId;
        EndIds = endOfTextId is { } end ? new HashSet<int> { end } : new HashSet<int>();
    }

    /// <summary>A generator whose tokens come from <paramref name="script"/> instead of a model, with everything else
    /// (prompt checks, end tokens, stop sequences, text) as usual: for tests of what is built on generation.</summary>
    internal TextGenerator(ITokenizer tokenizer, int? endOfTextId, int contextSize, Picker script)
    {
        (_device, _blockSize, _vocabSize, _script) = (CPU, contextSize, tokenizer.VocabSize, script);
        Tokenizer = tokenizer;
        EndOfTextId = endOfTextId;
        EndIds = EndsOf(tokenizer, endOfTextId, null, _vocabSize);
    }

    /// <summary>A generator that can also decode its output: needed for stop sequences and for <see cref="GenerationResult.Text"/>.</summary>
    public TextGenerator(Gpt model, ITokenizer tokenizer) : this(model, tokenizer, tokenizer.EndOfTextId) { }

    /// <summary>
    /// A generator that decodes with <paramref name="tokenizer"/> and ends at <paramref name="endOfTextId"/> (a chat
    /// template's <c>&lt;|end|&gt;</c>, say), and as well at the tokenizer's <c>&lt;|endoftext|&gt;</c> and
    /// <c>&lt;|end|&gt;</c> and at <paramref name="moreEndIds"/> (a model directory's eos_token_id,
    /// <c>Checkpoints.ModelDirectory.EndTokenIds</c>): a chat model that writes &lt;|endoftext|&gt; instead of
    /// &lt;|end|&gt; has ended its reply all the same.
    /// </summary>
    public TextGenerator(Gpt model, ITokenizer tokenizer, int? endOfTextId, IEnumerable<int>? moreEndIds = null) : this(model, endOfTextId)
    {
        Tokenizer = tokenizer;
        EndIds = EndsOf(tokenizer, endOfTextId, moreEndIds, model.Config.VocabSize);
    }

    static HashSet<int> EndsOf(ITokenizer tokenizer, int? endOfTextId, IEnumerable<int>? moreEndIds, int vocabSize)
    {
        var ends = new HashSet<int> { tokenizer.EndOfTextId };
        if (endOfTextId is { } first) ends.Add(first);
        if (tokenizer is BpeTokenizer bpe && bpe.TokenToId(SpecialTokens.End) is int end && bpe.IsSpecial(end)) ends.Add(end);
        foreach (int id in moreEndIds ?? [])
            ends.Add(id >= 0 ? id : throw new GptSharpException($"end token id {id} is not a token id"));
        ends.RemoveWhere(id => id >= vocabSize); // ids the model cannot produce never end anything
        return ends;
    }

    /// <summary>The id an empty prompt starts from, and one of the <see cref="EndIds"/>.</summary>
    public int? EndOfTextId { get; }
    /// <summary>Every id that ends generation (when <see cref="GenerationOptions.StopAtEndOfText"/>); never part of the output.</summary>
    public IReadOnlySet<int> EndIds { get; }
    public ITokenizer? Tokenizer { get; }
    /// <summary>The model's context (n_positions): prompt and generated tokens together.</summary>
    public int ContextSize => _blockSize;
    /// <summary>The options used when a call passes none: a model directory's generation_config.json, say.</summary>
    public GenerationOptions Defaults { get; init; } = new();

    /// <summary>The new token ids (neither the prompt nor the end-of-text token that stopped generation); with beam search, the best beam's.</summary>
    public int[] Generate(IReadOnlyList<int> prompt, GenerationOptions? options = null, CancellationToken ct = default)
    {
        var (ids, o) = Prepare(prompt, options);
        if (o.NumBeams > 1) return Beams(ids, o, ct)[0].Ids;
        var row = NewSequence(ids, o, streaming: false);
        foreach (var _ in Decode([row], o, ct)) { }
        return row.Result(Tokenizer).Ids;
    }

    /// <summary>
    /// The continuation with its text (when there is a tokenizer) and why it ended. Cancelling <paramref name="ct"/>
    /// returns what was produced so far, with <see cref="FinishReason.Cancelled"/>.
    /// </summary>
    public GenerationResult Complete(IReadOnlyList<int> prompt, GenerationOptions? options = null, CancellationToken ct = default)
    {
        var (ids, o) = Prepare(prompt, options);
        if (o.NumBeams > 1) return Beams(ids, o, ct)[0];
        var row = NewSequence(ids, o, streaming: false);
        try { foreach (var _ in Decode([row], o, ct)) { } }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { row.Finish = FinishReason.Cancelled; }
        return row.Result(Tokenizer);
    }

    /// <summary>Encodes <paramref name="prompt"/> with the generator's tokenizer and completes it.</summary>
    public GenerationResult Complete(string prompt, GenerationOptions? options = null, CancellationToken ct = default) =>
        Complete(RequireTokenizer("a text prompt").Encode(prompt), options, ct);

    /// <summary>
    /// The <see cref="GenerationOptions.NumReturnSequences"/> best beams, best first (beam search with
    /// <see cref="GenerationOptions.NumBeams"/> beams; 1 beam is greedy decoding).
    /// </summary>
    public IReadOnlyList<GenerationResult> GenerateBeams(IReadOnlyList<int> prompt, GenerationOptions? options = null, CancellationToken ct = default)
    {
        var (ids, o) = Prepare(prompt, options);
        return Beams(ids, o, ct);
    }

    IReadOnlyList<GenerationResult> Beams(int[] prompt, GenerationOptions o, CancellationToken ct) =>
        BeamSearch.Run(RequireModel("beam search"), _device, prompt, o, EndIds, Tokenizer, ct)
            .Select(r => r with { PromptTokensKept = prompt.Length }).ToArray();

    /// <summary>
    /// Several prompts at once, each result the same as generating that prompt alone. Gpt.Forward has no attention
    /// mask, so instead of left padding, prompts of equal length form one batch (one KV cache, one forward pass per
    /// step for the whole group); each row finishes on its own and has its own sampler seeded with the same seed.
    /// </summary>
    public IReadOnlyList<GenerationResult> GenerateBatch(IReadOnlyList<IReadOnlyList<int>> prompts, GenerationOptions? options = null, CancellationToken ct = default)
    {
        var o = Check(options);
        if (o.NumBeams > 1) throw new GptSharpException("invalid generation option: num_beams must be 1 for batched generation (beam search runs one prompt at a time)");
        var rows = prompts.Select(p => NewSequence(Prepare(p, o).Prompt, o, streaming: false)).ToArray();
        try
        {
            foreach (var group in rows.GroupBy(r => r.Tokens.Count))
                foreach (var _ in Decode(group.ToArray(), o, ct)) { }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            foreach (var row in rows.Where(r => r.Finish is null)) row.Finish = FinishReason.Cancelled;
        }
        return rows.Select(r => r.Result(Tokenizer)).ToArray();
    }

    /// <summary>
    /// Yields each new token id as soon as it is chosen. Each step runs synchronously when the next token is asked
    /// for; cancelling <paramref name="ct"/> or leaving the loop early frees the KV cache at once.
    /// Options and prompt are checked here, before the first token is asked for. A token that completes a stop
    /// sequence is not yielded, but earlier tokens holding the stop sequence's start have been: for text cut exactly
    /// and a finish reason, use <see cref="StreamTextAsync(IReadOnlyList{int}, GenerationOptions?, CancellationToken)"/>.
    /// </summary>
    public IAsyncEnumerable<int> StreamAsync(IReadOnlyList<int> prompt, GenerationOptions? options = null, CancellationToken ct = default)
    {
        var (ids, o) = Prepare(prompt, options);
        if (o.NumBeams > 1) throw new GptSharpException("invalid generation option: num_beams must be 1 when streaming");
        return Stream(NewSequence(ids, o, streaming: false), o, ct);
    }

    async IAsyncEnumerable<int> Stream(DecodingSequence row, GenerationOptions options, [EnumeratorCancellation] CancellationToken ct)
    {
        // Disposing this enumerator (early exit, cancellation, error) runs Decode's finally blocks, which free the cache.
        foreach (int id in Decode([row], options, ct)) yield return id;
    }

    /// <summary>
    /// The continuation as text, streamed: one <see cref="TextDelta"/> per generated token, then a last one that says
    /// why generation ended (<see cref="TextDelta.FinishReason"/>). The text is always whole UTF-8 characters with
    /// special tokens left out, and is cut exactly before a stop sequence: text that could be the start of one is held
    /// back until it is known not to be. Concatenated, the deltas' text equals <see cref="Complete(IReadOnlyList{int}, GenerationOptions?, CancellationToken)"/>'s.
    /// <para>Options and prompt are checked here, before the first delta is asked for; each step runs synchronously when
    /// the next delta is asked for. Cancelling <paramref name="ct"/> ends the stream with a last delta whose reason is
    /// <see cref="FinishReason.Cancelled"/> (with what was held back); leaving the loop early frees the KV cache at once.
    /// Beam search does not stream (num_beams must be 1): use <see cref="GenerateBeams"/>.</para>
    /// </summary>
    public IAsyncEnumerable<TextDelta> StreamTextAsync(IReadOnlyList<int> prompt, GenerationOptions? options = null, CancellationToken ct = default)
    {
        RequireTokenizer("streaming text");
        var (ids, o) = Prepare(prompt, options);
        if (o.NumBeams > 1) throw new GptSharpException("invalid generation option: num_beams must be 1 when streaming");
        return StreamText(NewSequence(ids, o, streaming: true), o, ct);
    }

    /// <summary>Encodes <paramref name="prompt"/> with the generator's tokenizer (empty: start a new document) and streams its continuation.</summary>
    public IAsyncEnumerable<TextDelta> StreamTextAsync(string prompt, GenerationOptions? options = null, CancellationToken ct = default) =>
        StreamTextAsync(RequireTokenizer("a text prompt").Encode(prompt), options, ct);

    async IAsyncEnumerable<TextDelta> StreamText(DecodingSequence row, GenerationOptions options, [EnumeratorCancellation] CancellationToken ct)
    {
        int kept = row.Tokens.Count;
        // Disposing the enumerator (early exit, error) runs Decode's finally blocks, which free the cache.
        using (var tokens = Decode([row], options, ct).GetEnumerator())
        {
            while (true)
            {
                try
                {
                    if (!tokens.MoveNext()) break;
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    row.Finish = FinishReason.Cancelled;
                    break;
                }
                yield return new TextDelta(row.Piece, [tokens.Current], kept) { Logprob = row.LastLogprob };
            }
        }
        row.Finish ??= FinishReason.Length;
        yield return row.LastDelta(kept);
    }

    /// <summary>The UTF-8 guard when the options ask for it and the tokenizer is byte-level BPE.</summary>
    internal Utf8Guard? Utf8GuardFor(GenerationOptions o) => _script is null ? Utf8GuardFor(o, Tokenizer, _vocabSize) : null;

    internal static Utf8Guard? Utf8GuardFor(GenerationOptions o, ITokenizer? tokenizer, int vocabSize) =>
        o.ValidUtf8 && tokenizer is BpeTokenizer bpe ? Utf8Guard.For(bpe, vocabSize) : null;

    GenerationOptions Check(GenerationOptions? options)
    {
        var o = (options ?? Defaults).Validate();
        if (o.StopSequences.Count > 0) RequireTokenizer("stop_sequences");
        return o;
    }

    ITokenizer RequireTokenizer(string what) => Tokenizer
        ?? throw new GptSharpException($"{what} needs a tokenizer: create the TextGenerator with one");

    internal Gpt RequireModel(string what) => _model ?? throw new NotSupportedException($"{what} needs a model, not a script");

    /// <summary>A row for <paramref name="prompt"/>; it watches its text when streaming it or when stop sequences are asked for.</summary>
    internal DecodingSequence NewSequence(int[] prompt, GenerationOptions o, bool streaming) =>
        new(prompt, streaming || o.StopSequences.Count > 0 ? new StopSequences(o.StopSequences, Tokenizer!) : null);

    /// <summary>The checked options and the token ids generation starts from: the prompt, or end-of-text for an empty one,
    /// with its oldest tokens dropped when <see cref="GenerationOptions.PromptOverflow"/> says so.</summary>
    internal (int[] Prompt, GenerationOptions Options) Prepare(IReadOnlyList<int> prompt, GenerationOptions? options)
    {
        var o = Check(options);
        int context = _blockSize, vocab = _vocabSize;
        // Like GPT-2, an empty prompt starts from the end-of-text token, which also marks the start of a document.
        int[] ids = prompt.Count > 0 ? [.. prompt]
            : EndOfTextId is { } eot ? [eot]
            : throw new GptSharpException("the prompt is empty and the model has no end-of-text token to start from");
        if (o.LogitBias.Keys.Where(id => id >= vocab).Select(id => (int?)id).FirstOrDefault() is { } outside)
            throw new GptSharpException($"invalid generation option: logit_bias names token {outside}, outside the model's vocabulary (0..{vocab - 1})");
        int bad = Array.FindIndex(ids, t => t < 0 || t >= vocab);
        if (bad >= 0)
            throw new GptSharpException($"prompt token {bad} has id {ids[bad]}, outside the model's vocabulary (0..{vocab - 1})");
        if (ids.Length > context && o.PromptOverflow == PromptOverflow.Error)
            throw new GptSharpException($"the prompt has {ids.Length} tokens but the model's context holds only {context} (n_positions): " +
                                        "shorten it, or let generation drop its oldest tokens (prompt_overflow TrimStart; --prompt-overflow trim)");
        int keep = o.PromptTokensKept(ids.Length, context);
        return (keep < ids.Length ? ids[^keep..] : ids, o);
    }

    /// <summary>
    /// Decodes rows whose prompts have equal length as one batch, yielding each new token with its row. A finished
    /// row keeps being fed a filler token so the batch stays rectangular; its result no longer changes.
    /// </summary>
    IEnumerable<int> Decode(DecodingSequence[] rows, GenerationOptions o, CancellationToken ct)
    {
        bool wasTraining = _model?.training ?? false;
        _model?.eval();
        ulong seed = (ulong)(o.Seed ?? Random.Shared.NextInt64());
        var rngs = rows.Select(_ => new torch.Generator(seed, _device)).ToArray();
        var guard = Utf8GuardFor(o);
        if (guard is not null) foreach (var row in rows) row.Utf8State = guard.StateAfter(row.Tokens);
        // The last new token is never fed back, so the cache never needs more than prompt + max_new_tokens positions.
        // A decoding engine on the model (Gpt.Engine) keeps its own caches; without one, a KvCache for Gpt.Forward.
        using var engine = o.UseCache && _model?.Engine is { } e ? e.Start(rows.Length) : null;
        using var cache = o.UseCache && engine is null && _model is { } model ? new KvCache(model.Config.NLayer, Math.Min(_blockSize, rows[0].Tokens.Count + o.MaxNewTokens)) : null;
        try
        {
            for (int step = 0; rows.Any(r => r.Finish is null); step++)
            {
                if (step == o.MaxNewTokens) { FinishAll(rows, FinishReason.Length); yield break; }
                // A step needs every token so far inside the context; the token it picks may take the last position.
                if (rows[0].Tokens.Count > _blockSize) { FinishAll(rows, FinishReason.ContextFull); yield break; }
                ct.ThrowIfCancellationRequested();
                int[] next = _script is null ? NextTokens(rows, cache, engine, o, rngs, guard) : [.. rows.Select(r => r.Finish is null ? _script(r.Tokens, step, o, ct) : 0)];
                for (int r = 0; r < rows.Length; r++)
                {
                    var row = rows[r];
                    if (row.Finish is not null) { row.Tokens.Add(row.Tokens[^1]); continue; }
                    if (row.Accept(next[r], o, EndIds, guard)) yield return next[r];
                }
            }
        }
        finally
        {
            foreach (var rng in rngs) rng.Dispose();
            if (wasTraining) _model!.train();
        }
    }

    static void FinishAll(DecodingSequence[] rows, FinishReason reason)
    {
        foreach (var row in rows) row.Finish ??= reason;
    }

    /// <summary>One decoding step for every row. Self-contained (grad mode and dispose scopes are per thread), so steps may run on different threads.</summary>
    int[] NextTokens(DecodingSequence[] rows, KvCache? cache, IDecodingState? engine, GenerationOptions o, torch.Generator[] rngs, Utf8Guard? guard)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        // With a cache only the tokens it has not seen go in: the whole prompt first, then one token per step.
        int seen = engine?.Length ?? cache?.Length ?? 0, fresh = rows[0].Tokens.Count - seen;
        long[] ids = rows.SelectMany(r => r.Tokens.Skip(seen).Select(t => (long)t)).ToArray();
        // Logits [rows, 1, vocab] either way: rows pick from logits[r, -1].
        var logits = engine is not null ? engine.Step(ids, fresh).unsqueeze(1)
            : _model!.Forward(tensor(ids, [rows.Length, fresh], ScalarType.Int64, _device), cache, lastPositionOnly: true);
        var next = new int[rows.Length];
        // Beside an engine, libtorch only adjusts and samples logits here: on this thread alone, so its OpenMP pool's
        // threads do not spin through the engine's next step (they halved onnx decoding with min_new_tokens or the UTF-8 guard on).
        using (engine is not null ? OpenMpThreads.SingleThreaded() : default)
        {
            for (int r = 0; r < rows.Length; r++)
            {
                var row = rows[r];
                if (row.Finish is not null) continue;
                next[r] = row.Choose(logits[r, -1], o, EndIds, guard, rngs[r]);
            }
        }
        return next;
    }
}
