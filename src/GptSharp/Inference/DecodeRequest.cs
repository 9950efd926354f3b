using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace GptSharp.Inference;

/// <summary>
/// One request in a <see cref="BatchDecoder"/>: its text streams out as <see cref="TextDelta"/>s, the last one saying why
/// it ended, exactly as <see cref="TextGenerator.StreamTextAsync(IReadOnlyList{int}, GenerationOptions?, CancellationToken)"/>
/// streams them. Cancelling the token it was submitted with ends it at the next step and frees its cache.
/// </summary>
public sealed class DecodeRequest
{
    readonly Channel<TextDelta> _deltas = Channel.CreateUnbounded<TextDelta>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal DecodeRequest(int promptTokens, int promptTokensKept, CancellationToken ct) =>
        (PromptTokens, PromptTokensKept, CancellationToken) = (promptTokens, promptTokensKept, ct);

    /// <summary>Tokens of the prompt as given.</summary>
    public int PromptTokens { get; }
    /// <summary>Tokens of the prompt the model sees (fewer when the oldest were dropped to fit the context).</summary>
    public int PromptTokensKept { get; }
    /// <summary>Prompt tokens whose keys and values came from an earlier request's cache instead of being computed.</summary>
    public int PromptTokensCached { get; internal set; }
    internal CancellationToken CancellationToken { get; }

    /// <summary>The deltas as they are decoded; the stream ends after the one with a finish reason, or with the error that stopped decoding.</summary>
    public ChannelReader<TextDelta> Deltas => _deltas.Reader;

    /// <summary>Every delta, ending with the one that has a finish reason.</summary>
    public async IAsyncEnumerable<TextDelta> ReadAllAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        await foreach (var d in _deltas.Reader.ReadAllAsync(ct).ConfigureAwait(false)) yield return d;
    }

    internal void Write(TextDelta delta) => _deltas.Writer.TryWrite(delta);
    internal void Complete(Exception? error = null)
    {
        _deltas.Writer.TryComplete(error);
        _finished.TrySetResult();
    }

    /// <summary>Completes when the decoder is done with the request (finished, failed or cancelled), whether or not its deltas were read.</summary>
    public Task Finished => _finished.Task;
}
