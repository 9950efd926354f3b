using System.Threading.Channels;
using GptSharp.Inference;

namespace GptSharp.Server.Scheduling;

/// <summary>
/// The first <see cref="IGenerationScheduler"/>: one sequence at a time per model, in arrival order, on a thread of its
/// own (decoding is synchronous CPU work and must not hold thread-pool threads). This is not continuous batching:
/// concurrent requests wait their turn. Up to <c>maxQueue</c> may wait; more are refused at once.
/// </summary>
public sealed class SequentialScheduler : IGenerationScheduler
{
    readonly TextGenerator _generator;
    readonly string _modelId;
    readonly int _maxQueue;
    readonly Channel<ScheduledSequence> _queue = Channel.CreateUnbounded<ScheduledSequence>(new UnboundedChannelOptions { SingleReader = true });
    readonly Thread _worker;
    readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    int _admitted, _active;

    public SequentialScheduler(TextGenerator generator, string modelId, int maxQueue)
    {
        (_generator, _modelId, _maxQueue) = (generator, modelId, maxQueue);
        _worker = new Thread(Run) { IsBackground = true, Name = $"gptsharp-scheduler-{modelId}" };
        _worker.Start();
    }

    public int QueueLength => Math.Max(0, Volatile.Read(ref _admitted) - Volatile.Read(ref _active));
    public int ActiveSequences => Volatile.Read(ref _active);

    public ScheduledSequence Enqueue(IReadOnlyList<int> prompt, GenerationOptions options, CancellationToken ct)
    {
        // One may run while maxQueue wait.
        if (Interlocked.Increment(ref _admitted) > _maxQueue + 1)
        {
            Interlocked.Decrement(ref _admitted);
            throw new QueueFullException(_modelId, _maxQueue);
        }
        var sequence = new ScheduledSequence(prompt, options, ct);
        if (!_queue.Writer.TryWrite(sequence))
        {
            Interlocked.Decrement(ref _admitted);
            throw new ObjectDisposedException(nameof(SequentialScheduler));
        }
        return sequence;
    }

    void Run()
    {
        try
        {
            while (_queue.Reader.WaitToReadAsync().AsTask().GetAwaiter().GetResult())
                while (_queue.Reader.TryRead(out var sequence))
                {
                    try
                    {
                        // A client that left while waiting costs nothing.
                        if (sequence.Stopping.IsCancellationRequested) { sequence.Complete(new OperationCanceledException(sequence.Stopping)); continue; }
                        Interlocked.Exchange(ref _active, 1);
                        Decode(sequence);
                    }
                    finally
                    {
                        Interlocked.Exchange(ref _active, 0);
                        Interlocked.Decrement(ref _admitted);
                    }
                }
        }
        finally { _stopped.TrySetResult(); }
    }

    void Decode(ScheduledSequence sequence)
    {
        try
        {
            // StreamTextAsync decodes synchronously in MoveNext; disposing it frees the KV cache.
            var deltas = _generator.StreamTextAsync(sequence.Prompt, sequence.Options, sequence.Stopping).GetAsyncEnumerator(sequence.Stopping);
            try
            {
                while (Wait(deltas.MoveNextAsync()))
                {
                    sequence.Write(deltas.Current);
                    if (deltas.Current.FinishReason is not null) break;
                }
            }
            finally { deltas.DisposeAsync().AsTask().GetAwaiter().GetResult(); }
            sequence.Complete();
        }
        catch (Exception e) { sequence.Complete(e); }
    }

    static bool Wait(ValueTask<bool> next) => next.IsCompletedSuccessfully ? next.Result : next.AsTask().GetAwaiter().GetResult();

    /// <summary>Lets queued and running sequences finish (a drain), then stops the thread.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _stopped.Task.ConfigureAwait(false);
    }
}
