using System.Collections.Concurrent;
using GptSharp.Inference;
using GptSharp.Server.Scheduling;

namespace GptSharp.Tests.Server.Scheduling;

/// <summary>
/// Wraps a real scheduler: records every prompt the server admitted (what a client's request became), optionally
/// slows each delta down so a stream lasts long enough to be stopped, and counts the sequences stopped before their end.
/// </summary>
sealed class RecordingScheduler(IGenerationScheduler inner, Func<TimeSpan> perDelta) : IGenerationScheduler
{
    int _stopped;

    public RecordingScheduler(IGenerationScheduler inner, TimeSpan perDelta) : this(inner, () => perDelta) { }

    public ConcurrentQueue<IReadOnlyList<int>> Prompts { get; } = new();
    /// <summary>Sequences whose client went away (or that were stopped otherwise) before they finished.</summary>
    public int Stopped => Volatile.Read(ref _stopped);
    public int QueueLength => inner.QueueLength;
    public int ActiveSequences => inner.ActiveSequences;

    public ScheduledSequence Enqueue(IReadOnlyList<int> prompt, GenerationOptions options, CancellationToken ct)
    {
        var outer = new ScheduledSequence(prompt, options, ct);
        var source = inner.Enqueue(prompt, options, outer.Stopping);
        Prompts.Enqueue(prompt);
        _ = PumpAsync(source, outer);
        return outer;
    }

    async Task PumpAsync(ScheduledSequence source, ScheduledSequence outer)
    {
        try
        {
            await foreach (var delta in source.ReadAllAsync(outer.Stopping))
            {
                if (perDelta() is var delay && delay > TimeSpan.Zero) await Task.Delay(delay, outer.Stopping);
                outer.Write(delta);
            }
            outer.Complete();
        }
        catch (OperationCanceledException e)
        {
            Interlocked.Increment(ref _stopped);
            outer.Complete(e);
        }
        catch (Exception e) { outer.Complete(e); }
        finally { source.Dispose(); }
    }

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
