using System.Runtime.CompilerServices;
using System.Threading.Channels;
using GptSharp.Inference;

namespace GptSharp.Server.Scheduling;

/// <summary>
/// One admitted sequence: the scheduler writes its deltas, the route reads them (<see cref="ReadAllAsync"/>).
/// Disposing it (the route stopped reading: content filter, error, disconnect) stops generation.
/// </summary>
public sealed class ScheduledSequence : IDisposable
{
    readonly Channel<TextDelta> _deltas = Channel.CreateUnbounded<TextDelta>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    readonly CancellationTokenSource _stop;
    ChannelReader<TextDelta>? _source; // the decoder's own deltas, read directly (ReadFrom)

    public ScheduledSequence(IReadOnlyList<int> prompt, GenerationOptions options, CancellationToken ct)
    {
        (Prompt, Options) = (prompt, options);
        _stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
    }

    public IReadOnlyList<int> Prompt { get; }
    public GenerationOptions Options { get; }
    /// <summary>Fires when the caller's token fires or the sequence is disposed; the scheduler stops generating then.</summary>
    public CancellationToken Stopping => _stop.Token;

    /// <summary>For schedulers: a delta is ready.</summary>
    public void Write(TextDelta delta) => _deltas.Writer.TryWrite(delta);

    /// <summary>
    /// Reads the deltas from <paramref name="source"/> (a <see cref="DecodeRequest"/>'s) instead of <see cref="Write"/>'s:
    /// no relay between the decoder and the response, so each token wakes one thread, not two.
    /// </summary>
    public void ReadFrom(ChannelReader<TextDelta> source) => _source = source;

    /// <summary>For schedulers: the sequence is over (<paramref name="error"/> rethrown to the reader).</summary>
    public void Complete(Exception? error = null) => _deltas.Writer.TryComplete(error);

    /// <summary>The deltas as they come, the last with its finish reason. Throws when the sequence was stopped or failed.</summary>
    public async IAsyncEnumerable<TextDelta> ReadAllAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        await foreach (var delta in (_source ?? _deltas.Reader).ReadAllAsync(ct).ConfigureAwait(false))
        {
            // Once stopped, what the scheduler had written before it noticed is not wanted either.
            Stopping.ThrowIfCancellationRequested();
            yield return delta;
        }
    }

    public void Dispose()
    {
        try { _stop.Cancel(); } catch (ObjectDisposedException) { }
        _deltas.Writer.TryComplete();
    }
}
