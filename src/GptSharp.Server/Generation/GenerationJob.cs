using System.Diagnostics;
using System.Runtime.CompilerServices;
using GptSharp.Chat.Safety;
using GptSharp.Inference;
using GptSharp.Server.Hosting;
using GptSharp.Server.Metrics;
using GptSharp.Server.Scheduling;

namespace GptSharp.Server.Generation;

/// <summary>
/// One request's choices, admitted to the model's scheduler together (so a full queue refuses the request before any
/// byte is sent), then read back choice after choice through the content filter. Counts tokens exactly (prompt tokens,
/// and every token the model generated, the one completing a stop sequence included) and feeds the latency metrics.
/// Disposing it stops whatever is still queued or running.
/// </summary>
public sealed class GenerationJob : IDisposable
{
    readonly LoadedModel _model;
    readonly ContentFilter? _filter;
    readonly ServerMetrics _metrics;
    readonly ScheduledSequence[] _sequences;
    readonly Stopwatch _clock = Stopwatch.StartNew();

    GenerationJob(LoadedModel model, int promptTokens, ContentFilter? filter, ServerMetrics metrics, ScheduledSequence[] sequences)
    {
        (_model, PromptTokens, _filter, _metrics, _sequences) = (model, promptTokens, filter, metrics, sequences);
    }

    public int PromptTokens { get; }
    /// <summary>Tokens generated so far, over every choice.</summary>
    public int CompletionTokens { get; private set; }

    /// <summary>Admits one sequence per choice; throws <see cref="QueueFullException"/> when the model's queue cannot take them.</summary>
    public static GenerationJob Start(LoadedModel model, int[] prompt, IReadOnlyList<GenerationOptions> choices, ContentFilter? filter,
        ServerMetrics metrics, CancellationToken ct)
    {
        var admitted = new List<ScheduledSequence>();
        try
        {
            foreach (var options in choices) admitted.Add(model.Scheduler.Enqueue(prompt, options, ct));
        }
        catch
        {
            foreach (var s in admitted) s.Dispose();
            throw;
        }
        return new GenerationJob(model, prompt.Length, filter, metrics, [.. admitted]);
    }

    /// <summary>Every choice's pieces, choice 0 first. Throws <see cref="OperationCanceledException"/> when the request's token fires.</summary>
    public async IAsyncEnumerable<ChoicePiece> ReadAllAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        string model = _model.Id;
        for (int i = 0; i < _sequences.Length; i++)
        {
            using var sequence = _sequences[i];
            var filter = _filter?.CreateOutputStream();
            double? last = null;
            // Token log-probabilities wait until the filter has shown their text: (entry, text length through its token).
            var waiting = new Queue<(TokenLogprob Entry, long End)>();
            long given = 0, shown = 0;
            IReadOnlyList<TokenLogprob> Due(bool all)
            {
                var due = new List<TokenLogprob>();
                while (waiting.Count > 0 && (all || waiting.Peek().End <= shown)) due.Add(waiting.Dequeue().Entry);
                return due;
            }
            await foreach (var delta in sequence.ReadAllAsync(ct).ConfigureAwait(false))
            {
                given += delta.Text.Length;
                if (delta.Logprob is { } lp) waiting.Enqueue((lp, given));
                if (delta.Ids.Count > 0)
                {
                    double now = _clock.Elapsed.TotalSeconds;
                    if (last is { } t) _metrics.InterTokenLatency.WithLabels(model).Observe(now - t);
                    else if (i == 0) _metrics.TimeToFirstToken.WithLabels(model).Observe(now);
                    last = now;
                    CompletionTokens += delta.Ids.Count;
                    _metrics.CompletionTokens.WithLabels(model).Inc(delta.Ids.Count);
                }
                string text = filter?.Push(delta.Text) ?? delta.Text;
                if (delta.FinishReason is { } reason && filter is not null) text += filter.Finish();
                shown += text.Length;
                if (filter is { Stopped: true })
                {
                    // Leaving the loop disposes the sequence, which stops generation at once.
                    yield return new ChoicePiece(i, text, OpenAiFinishReason.Of(FinishReason.ContentFilter)) { Logprobs = Due(all: false) };
                    break;
                }
                yield return new ChoicePiece(i, text, delta.FinishReason is { } r ? OpenAiFinishReason.Of(r) : null)
                    { Logprobs = Due(all: delta.FinishReason is not null) };
                if (delta.FinishReason is not null) break;
            }
        }
        _metrics.PromptTokens.WithLabels(model).Inc(PromptTokens);
    }

    public void Dispose()
    {
        foreach (var s in _sequences) s.Dispose();
    }
}
