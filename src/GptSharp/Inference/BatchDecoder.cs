using System.Collections.Concurrent;
using GptSharp.Models;
using GptSharp.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Inference;

/// <summary>
/// Continuous batching (Yu et al. 2022, "Orca", iteration-level scheduling): every active request decodes in the same
/// forward pass (<see cref="IDecodingSlots.Forward"/>: the model's decoding engine when it has one, else
/// <see cref="Gpt.ForwardPacked"/>), one token each per step. Requests join between steps — a long prompt
/// is prefilled over several steps, at most <see cref="BatchDecoderOptions.PrefillChunk"/> tokens per step, so running
/// streams keep flowing — and leave as soon as they finish, stop or are cancelled, freeing their KV cache. A finished
/// request's cache is kept for a follow-up that starts with the same tokens (the next turn of a chat), which then
/// computes only what is new (<see cref="DecodeRequest.PromptTokensCached"/>).
/// <para>
/// Each request streams what <see cref="TextGenerator.StreamTextAsync(IReadOnlyList{int}, GenerationOptions?, CancellationToken)"/>
/// streams for the same prompt and options: the same checks, stop sequences, end tokens, UTF-8 guard and per-request
/// seeded sampling. Batched matrix products may round differently from one-at-a-time ones, so with sampling a token can
/// in rare cases differ.
/// </para>
/// <para>Steps run on one thread: <see cref="RunAsync"/>'s, or the caller's with <see cref="Step"/>; <see cref="Submit"/> may be called from any thread.</para>
/// </summary>
public sealed class BatchDecoder : IDisposable
{
    readonly TextGenerator _generator;
    readonly Gpt _model;
    readonly BatchDecoderOptions _options;
    readonly ConcurrentQueue<Active> _waiting = new();
    readonly List<Active> _active = [];
    readonly LinkedList<(int[] Tokens, IKvSnapshot Cache)> _prefixes = new(); // most recently used first
    readonly SemaphoreSlim _signal = new(0);
    readonly Device _device;
    readonly IDecodingSlots _slots;

    public BatchDecoder(TextGenerator generator, BatchDecoderOptions? options = null)
    {
        _generator = generator;
        _model = generator.RequireModel("batched decoding");
        if (generator.Tokenizer is null) throw new GptSharpException("batched decoding streams text: create the TextGenerator with a tokenizer");
        _options = (options ?? new BatchDecoderOptions()).Validate();
        _device = _model.Device;
        _slots = _model.Engine?.StartSlots(_options.MaxBatch) ?? new TorchDecodingSlots(_model, _options.MaxBatch);
    }

    /// <summary>Requests decoding now.</summary>
    public int ActiveCount { get; private set; }
    /// <summary>Requests submitted and not yet decoding.</summary>
    public int WaitingCount => _waiting.Count;
    /// <summary>Forward passes run so far (tokens decoded ÷ passes is the batch actually achieved).</summary>
    public long Passes => Interlocked.Read(ref _passes);
    long _passes;
    /// <summary>Conversation caches kept for follow-ups.</summary>
    public int CachedPrefixes { get; private set; }
    /// <summary>KV positions held by the active requests' slots (0 when none is active: a freed slot holds nothing).</summary>
    public int KvPositions { get; private set; }
    /// <summary>KV positions held by the conversation caches kept for follow-ups (bounded by <see cref="BatchDecoderOptions.PrefixCacheEntries"/>).</summary>
    public int CachedPrefixPositions { get; private set; }

    /// <summary>
    /// Queues a prompt. Options and prompt are checked here, as <see cref="TextGenerator.StreamTextAsync(IReadOnlyList{int}, GenerationOptions?, CancellationToken)"/>
    /// checks them (a <see cref="GptSharpException"/> names what is wrong); cancelling <paramref name="ct"/> ends the request.
    /// </summary>
    public DecodeRequest Submit(IReadOnlyList<int> prompt, GenerationOptions? options = null, CancellationToken ct = default)
    {
        var (ids, o) = _generator.Prepare(prompt, options);
        if (o.NumBeams > 1) throw new GptSharpException("invalid generation option: num_beams must be 1 when batching (beam search runs one prompt at a time)");
        int startCount = prompt.Count > 0 ? prompt.Count : ids.Length;
        var request = new DecodeRequest(startCount, ids.Length, ct);
        _waiting.Enqueue(new Active(request, _generator.NewSequence(ids, o, streaming: true), o, ids.Length));
        _signal.Release();
        return request;
    }

    /// <summary>Decodes until <paramref name="stop"/> is cancelled, on a thread of its own, sleeping while there is nothing to do.</summary>
    public Task RunAsync(CancellationToken stop) => Task.Factory.StartNew(async () =>
    {
        while (!stop.IsCancellationRequested)
        {
            if (!Step())
            {
                try { await _signal.WaitAsync(stop).ConfigureAwait(false); }
                catch (OperationCanceledException) { break; }
            }
        }
        FailAll(new OperationCanceledException("the decoder was stopped"));
    }, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).Unwrap();

    /// <summary>Admits waiting requests, then runs one forward pass for every active one. False when there was nothing to do.</summary>
    public bool Step()
    {
        Admit();
        foreach (var a in _active.ToList())
            if (a.Request.CancellationToken.IsCancellationRequested) Finish(a, FinishReason.Cancelled);
        // Decoding rows first, in slot order (the pass then needs no gathering), then prompt chunks.
        var batch = new List<(Active Row, int[] Feed, bool Last)>();
        int prefillBudget = _options.PrefillChunk;
        foreach (var a in _active.OrderBy(a => a.Slot))
            if (_slots.Length(a.Slot) >= a.PromptLength) batch.Add((a, [a.Row.Tokens[^1]], true));
        foreach (var a in _active.OrderBy(a => a.Slot))
        {
            int fed = _slots.Length(a.Slot), pending = a.Row.Tokens.Count - fed;
            if (fed >= a.PromptLength || prefillBudget == 0) continue;
            // Still prefilling: a chunk of the prompt, within what this step has left for prompts.
            int take = Math.Min(pending, prefillBudget);
            prefillBudget -= take;
            batch.Add((a, a.Row.Tokens.GetRange(fed, take).ToArray(), take == pending));
        }
        if (batch.Count == 0) return _active.Count > 0;

        try
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            Interlocked.Increment(ref _passes);
            var logits = _slots.Forward(batch.Select(b => (IReadOnlyList<int>)b.Feed).ToList(), batch.Select(b => b.Row.Slot).ToList());
            var endIds = _generator.EndIds;
            // Beside an engine libtorch only adjusts and samples logits: on this thread alone (see TextGenerator.NextTokens).
            using var oneThread = _model.Engine is not null ? OpenMpThreads.SingleThreaded() : default;
            for (int i = 0; i < batch.Count; i++)
            {
                var (a, _, last) = batch[i];
                if (!last) continue; // the prompt is not all in yet: its next token is not wanted
                int id = a.Row.Choose(logits[i], a.Options, endIds, a.Guard, a.Rng!);
                if (a.Row.Accept(id, a.Options, endIds, a.Guard)) a.Request.Write(new TextDelta(a.Row.Piece, [id], a.PromptLength) { Logprob = a.Row.LastLogprob });
                if (a.Row.Finish is { } reason) Finish(a, reason);
                else if (a.Row.Tokens.Count - a.PromptLength >= a.Options.MaxNewTokens) Finish(a, FinishReason.Length);
                else if (a.Row.Tokens.Count > _generator.ContextSize) Finish(a, FinishReason.ContextFull);
            }
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            foreach (var (a, _, _) in batch) Fail(a, e);
        }
        Recount();
        return true;
    }

    void Admit()
    {
        while (_active.Count < _options.MaxBatch && _waiting.TryDequeue(out var a))
        {
            if (a.Request.CancellationToken.IsCancellationRequested) { a.Request.Write(new TextDelta("", [], a.PromptLength) { FinishReason = FinishReason.Cancelled }); a.Request.Complete(); continue; }
            a.Start(_generator, _slots.Add(), _device);
            a.Request.PromptTokensCached = ReuseCache(a);
            _active.Add(a);
        }
        Recount();
    }

    /// <summary>
    /// Fills the request's slot from the cache of a finished request whose tokens start like this prompt, up to what they
    /// share (keeping one prompt token to compute: its logits give the first new token). Returns the positions reused.
    /// </summary>
    int ReuseCache(Active a)
    {
        var prompt = a.Row.Tokens;
        LinkedListNode<(int[] Tokens, IKvSnapshot Cache)>? best = null;
        int bestShared = 0;
        for (var node = _prefixes.First; node is not null; node = node.Next)
        {
            int shared = 0, max = Math.Min(node.Value.Tokens.Length, a.PromptLength - 1);
            while (shared < max && node.Value.Tokens[shared] == prompt[shared]) shared++;
            if (shared > bestShared) (best, bestShared) = (node, shared);
        }
        if (best is null) return 0;
        _prefixes.Remove(best);
        CachedPrefixes = _prefixes.Count;
        using var cache = best.Value.Cache;
        _slots.CopyIn(a.Slot, cache, bestShared);
        return bestShared;
    }

    void Finish(Active a, FinishReason reason)
    {
        var row = a.Row;
        row.Finish ??= reason;
        a.Request.Write(row.LastDelta(a.PromptLength));
        a.Request.Complete();
        Leave(a, keepCache: row.Finish != FinishReason.Cancelled);
    }

    void Fail(Active a, Exception e)
    {
        a.Request.Complete(e);
        Leave(a, keepCache: false);
    }

    void Leave(Active a, bool keepCache)
    {
        _active.Remove(a);
        ActiveCount = _active.Count;
        a.Rng?.Dispose();
        int length = _slots.Length(a.Slot);
        if (keepCache && _options.PrefixCacheEntries > 0 && length > 0)
        {
            // What the slot holds: every token but the last new one, which was never fed back.
            _prefixes.AddFirst((a.Row.Tokens.Take(length).ToArray(), _slots.CopyOut(a.Slot)));
            while (_prefixes.Count > _options.PrefixCacheEntries)
            {
                _prefixes.Last!.Value.Cache.Dispose();
                _prefixes.RemoveLast();
            }
            CachedPrefixes = _prefixes.Count;
        }
        int moved = _slots.Remove(a.Slot);
        if (moved >= 0) _active.Single(x => x.Slot == moved).Slot = a.Slot;
        Recount();
    }

    /// <summary>Refreshes the counts other threads read (metrics); the decoder's thread alone changes what they count.</summary>
    void Recount()
    {
        ActiveCount = _active.Count;
        int held = 0;
        for (int slot = 0; slot < _slots.Count; slot++) held += _slots.Length(slot);
        KvPositions = held;
        CachedPrefixes = _prefixes.Count;
        CachedPrefixPositions = _prefixes.Sum(p => p.Tokens.Length);
    }

    void FailAll(Exception e)
    {
        foreach (var a in _active.ToList()) Fail(a, e);
        while (_waiting.TryDequeue(out var w)) w.Request.Complete(e);
    }

    public void Dispose()
    {
        FailAll(new ObjectDisposedException(nameof(BatchDecoder)));
        foreach (var (_, cache) in _prefixes) cache.Dispose();
        _prefixes.Clear();
        _slots.Dispose();
        _signal.Dispose();
    }

    /// <summary>A request being decoded: its sequence, options, generator of random numbers, UTF-8 guard and KV slot.</summary>
    sealed class Active(DecodeRequest request, DecodingSequence row, GenerationOptions options, int promptLength)
    {
        public DecodeRequest Request { get; } = request;
        public DecodingSequence Row { get; } = row;
        public GenerationOptions Options { get; } = options;
        public int PromptLength { get; } = promptLength;
        public torch.Generator? Rng { get; private set; }
        public Utf8Guard? Guard { get; private set; }
        /// <summary>Its slot in the decoder's <see cref="IDecodingSlots"/> (it changes when another request leaves).</summary>
        public int Slot { get; set; } = -1;

        public void Start(TextGenerator generator, int slot, Device device)
        {
            Slot = slot;
            Rng = new torch.Generator((ulong)(Options.Seed ?? Random.Shared.NextInt64()), device);
            Guard = generator.Utf8GuardFor(Options);
            if (Guard is not null) Row.Utf8State = Guard.StateAfter(Row.Tokens);
        }
    }
}
