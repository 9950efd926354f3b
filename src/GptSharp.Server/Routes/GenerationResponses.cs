using System.Text;
using System.Text.Json;
using GptSharp.Inference;
using GptSharp.Server.Errors;
using GptSharp.Server.Generation;
using GptSharp.Server.Hosting;
using GptSharp.Server.Metrics;
using GptSharp.Server.Options;
using GptSharp.Server.Responses;
using Microsoft.AspNetCore.Http;

namespace GptSharp.Server.Routes;

/// <summary>
/// What chat and text completions share once a request is checked: admission (429 before any byte is sent), the
/// per-request timeout, client disconnects (the request's abort token stops the sequences), and reading the choices
/// whole or as Server-Sent Events ending with <c>data: [DONE]</c>.
/// </summary>
sealed class GenerationResponses(HttpContext http, ServerOptions options, ServerMetrics metrics, ServedFilter filter, ILogger log)
{
    public const string Done = "[DONE]";

    /// <summary>The choices' whole texts and finish reasons, with the usage.</summary>
    public async Task<(string[] Texts, string[] Finishes, Usage Usage, List<TokenLogprob>[] Logprobs)> CompleteAsync(LoadedModel model, int[] prompt,
        IReadOnlyList<GenerationOptions> choices)
    {
        using var deadline = Deadline();
        using var job = GenerationJob.Start(model, prompt, choices, filter.Rules, metrics, deadline.Token);
        var texts = choices.Select(_ => new StringBuilder()).ToArray();
        var finishes = new string[choices.Count];
        var logprobs = choices.Select(_ => new List<TokenLogprob>()).ToArray();
        try
        {
            await foreach (var piece in job.ReadAllAsync(deadline.Token))
            {
                texts[piece.Index].Append(piece.Text);
                logprobs[piece.Index].AddRange(piece.Logprobs);
                if (piece.FinishReason is { } f) finishes[piece.Index] = f;
            }
        }
        catch (OperationCanceledException) when (!http.RequestAborted.IsCancellationRequested)
        {
            throw TimedOut();
        }
        return ([.. texts.Select(t => t.ToString())], finishes, new Usage(job.PromptTokens, job.CompletionTokens), logprobs);
    }

    /// <summary>
    /// Admits the choices now, and returns the events to stream: what <paramref name="format"/> makes of each piece, the
    /// usage event when asked for, then [DONE]. A timeout mid-stream sends an error event (the status is already 200).
    /// </summary>
    public IAsyncEnumerable<string> Stream(LoadedModel model, int[] prompt, IReadOnlyList<GenerationOptions> choices, bool includeUsage,
        Func<ChoicePiece, bool, IEnumerable<object>> format, Func<Usage, object> usage)
    {
        var deadline = Deadline();
        http.Response.RegisterForDispose(deadline);
        var job = GenerationJob.Start(model, prompt, choices, filter.Rules, metrics, deadline.Token);
        http.Response.RegisterForDispose(job);
        return Events(job, deadline.Token, includeUsage, format, usage);
    }

    async IAsyncEnumerable<string> Events(GenerationJob job, CancellationToken ct, bool includeUsage,
        Func<ChoicePiece, bool, IEnumerable<object>> format, Func<Usage, object> usage,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken aborted = default)
    {
        using var _ = job;
        // Headers go out now, not with the first token: a client sees the stream open while its request waits its turn.
        if (!http.Response.HasStarted) await http.Response.StartAsync(aborted);
        using var both = CancellationTokenSource.CreateLinkedTokenSource(ct, aborted);
        ct = both.Token;
        var pieces = job.ReadAllAsync(ct).GetAsyncEnumerator(ct);
        int current = -1;
        try
        {
            while (true)
            {
                ApiException? failure = null;
                try
                {
                    if (!await pieces.MoveNextAsync()) break;
                }
                catch (OperationCanceledException) when (!http.RequestAborted.IsCancellationRequested) { failure = TimedOut(); }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The status is already 200: the failure goes out as an event, in OpenAI's error shape.
                    failure = e as ApiException ?? (e is GptSharpException lib ? new ApiException(400, lib.Message) : null);
                    if (failure is null)
                    {
                        log.LogError(e, "generation failed mid-stream");
                        failure = new ApiException(500, "internal server error");
                    }
                }
                if (failure is not null)
                {
                    yield return Json(failure.ToError());
                    break;
                }
                var piece = pieces.Current;
                bool first = piece.Index != current;
                current = piece.Index;
                foreach (var e in format(piece, first)) yield return includeUsage ? WithNullUsage(e) : Json(e);
            }
            if (includeUsage) yield return Json(usage(new Usage(job.PromptTokens, job.CompletionTokens)));
            yield return Done;
        }
        finally { await pieces.DisposeAsync(); }
    }

    CancellationTokenSource Deadline()
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        cts.CancelAfter(options.RequestTimeout);
        return cts;
    }

    ApiException TimedOut() =>
        new(504, $"the request took longer than this server allows ({options.RequestTimeout.TotalSeconds:0.###} s)", code: "timeout", type: "timeout");

    static string Json(object value) => JsonSerializer.Serialize(value, value.GetType(), WireJson.Options);

    /// <summary>As OpenAI streams with include_usage: every chunk but the last says <c>"usage": null</c>.</summary>
    static string WithNullUsage(object value) => JsonSerializer.Serialize(value, value.GetType(), WireJson.WithNullUsage);
}
