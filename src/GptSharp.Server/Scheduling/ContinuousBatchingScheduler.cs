using GptSharp.Inference;

namespace GptSharp.Server.Scheduling;

/// <summary>
/// A model's <see cref="IGenerationScheduler"/>: continuous batching with the library's <see cref="BatchDecoder"/>. Up
/// to <c>maxBatch</c> sequences decode together, one forward pass per step on a thread of the decoder's own; a new
/// request joins between steps (its prompt prefilled in chunks, so running streams keep flowing) and a finished,
/// stopped or abandoned one leaves at once, freeing its KV slot. Up to <c>maxQueue</c> more may wait; beyond that a
/// request is refused at once (429). A conversation's next turn reuses the cache of the turn before.
/// </summary>
public sealed class ContinuousBatchingScheduler : IGenerationScheduler
{
    readonly BatchDecoder _decoder;
    readonly string _modelId;
    readonly int _capacity;
    readonly CancellationTokenSource _stop = new();
    readonly Task _loop;
    readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    int _admitted;
    bool _closing;

    public ContinuousBatchingScheduler(TextGenerator generator, string modelId, int maxBatch, int maxQueue, int prefillChunk = 256)
    {
        _decoder = new BatchDecoder(generator, new BatchDecoderOptions { MaxBatch = maxBatch, PrefillChunk = prefillChunk });
        (_modelId, _capacity) = (modelId, maxBatch + maxQueue);
        _loop = _decoder.RunAsync(_stop.Token);
    }

    public int QueueLength => _decoder.WaitingCount;
    public int ActiveSequences => _decoder.ActiveCount;
    public int KvPositions => _decoder.KvPositions;
    public (int Entries, int Positions) CachedPrefixes => (_decoder.CachedPrefixes, _decoder.CachedPrefixPositions);
    /// <summary>Forward passes the model has run for this scheduler (each decodes a token for every active sequence).</summary>
    public long Passes => _decoder.Passes;

    public ScheduledSequence Enqueue(IReadOnlyList<int> prompt, GenerationOptions options, CancellationToken ct)
    {
        if (Volatile.Read(ref _closing)) throw new ObjectDisposedException(nameof(ContinuousBatchingScheduler));
        if (Interlocked.Increment(ref _admitted) > _capacity)
        {
            Leave();
            throw new QueueFullException(_modelId, _capacity - 1);
        }
        var sequence = new ScheduledSequence(prompt, options, ct);
        DecodeRequest request;
        try { request = _decoder.Submit(prompt, options, sequence.Stopping); }
        catch (Exception e)
        {
            // Bad options or prompt: the reader gets the error, as from a sequence that failed.
            sequence.Complete(e);
            Leave();
            return sequence;
        }
        // The route reads the decoder's deltas directly; the request's place is free once the decoder is done with it,
        // read to the end or not.
        sequence.ReadFrom(request.Deltas);
        request.Finished.ContinueWith(_ => Leave(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return sequence;
    }

    void Leave()
    {
        if (Interlocked.Decrement(ref _admitted) == 0 && Volatile.Read(ref _closing)) _idle.TrySetResult();
    }

    /// <summary>Lets admitted sequences finish (a drain), then stops the decoder's thread.</summary>
    public async ValueTask DisposeAsync()
    {
        Volatile.Write(ref _closing, true);
        if (Volatile.Read(ref _admitted) == 0) _idle.TrySetResult();
        await _idle.Task.ConfigureAwait(false);
        _stop.Cancel();
        await _loop.ConfigureAwait(false);
        _decoder.Dispose();
        _stop.Dispose();
    }
}
