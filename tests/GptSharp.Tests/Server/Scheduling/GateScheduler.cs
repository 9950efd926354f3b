using GptSharp.Inference;
using GptSharp.Server.Scheduling;

namespace GptSharp.Tests.Server.Scheduling;

/// <summary>
/// A scheduler that admits up to <c>capacity</c> sequences and never generates until told to: for the tests of what
/// the routes do with a full queue, a disconnect or a timeout, without racing a real model.
/// </summary>
sealed class GateScheduler(string modelId, int capacity) : IGenerationScheduler
{
    public List<ScheduledSequence> Sequences { get; } = [];
    public int QueueLength => Sequences.Count(s => !s.Stopping.IsCancellationRequested);
    public int ActiveSequences => 0;

    public ScheduledSequence Enqueue(IReadOnlyList<int> prompt, GenerationOptions options, CancellationToken ct)
    {
        lock (Sequences)
        {
            if (QueueLength >= capacity) throw new QueueFullException(modelId, capacity);
            var sequence = new ScheduledSequence(prompt, options, ct);
            Sequences.Add(sequence);
            return sequence;
        }
    }

    /// <summary>Waits until a sequence is admitted.</summary>
    public async Task<ScheduledSequence> AdmittedAsync(int index = 0)
    {
        for (int i = 0; i < 500; i++)
        {
            lock (Sequences) if (Sequences.Count > index) return Sequences[index];
            await Task.Delay(10);
        }
        throw new TimeoutException("no sequence was admitted");
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
