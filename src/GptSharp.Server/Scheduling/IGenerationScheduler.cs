using GptSharp.Inference;

namespace GptSharp.Server.Scheduling;

/// <summary>
/// The seam between the routes and a model: a route admits a sequence, then reads its text back as the library's
/// <see cref="TextDelta"/>s. One scheduler per model: <see cref="ContinuousBatchingScheduler"/>, every active sequence in
/// one forward pass per step (tests put their own in its place).
/// </summary>
public interface IGenerationScheduler : IAsyncDisposable
{
    /// <summary>Sequences admitted but not yet decoding.</summary>
    int QueueLength { get; }

    /// <summary>Sequences decoding now.</summary>
    int ActiveSequences { get; }

    /// <summary>KV cache positions the decoding sequences hold (0 once none is left: a leak shows here).</summary>
    int KvPositions => 0;

    /// <summary>Finished conversations whose KV cache is kept for their next turn, and the positions they hold.</summary>
    (int Entries, int Positions) CachedPrefixes => (0, 0);

    /// <summary>
    /// Admits a sequence, or throws <see cref="QueueFullException"/> at once (before any response is written).
    /// Cancelling <paramref name="ct"/> (the client went away, the request timed out) takes it out of the queue or stops
    /// it between tokens, freeing its KV cache; so does disposing the returned sequence.
    /// </summary>
    ScheduledSequence Enqueue(IReadOnlyList<int> prompt, GenerationOptions options, CancellationToken ct);
}
