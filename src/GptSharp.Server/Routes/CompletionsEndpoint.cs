using GptSharp.Server.Errors;
using GptSharp.Server.Generation;
using GptSharp.Server.Hosting;
using GptSharp.Server.Metrics;
using GptSharp.Server.Options;
using GptSharp.Server.Requests;
using GptSharp.Server.Responses;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace GptSharp.Server.Routes;

/// <summary>POST /v1/completions: the prompt continued, whole or streamed; works with base and chat models.</summary>
public static class CompletionsEndpoint
{
    public static async Task<Results<JsonHttpResult<TextCompletion>, ServerSentEventsResult<string>>> HandleAsync(
        HttpContext http, ModelRegistry models, ServerOptions options, ServerMetrics metrics, ServedFilter filter, ILoggerFactory logs)
    {
        models.RequireReady();
        var fields = await RequestBody.ReadJsonAsync(http.Request, options.MaxRequestBytes, http.RequestAborted);
        var request = CompletionRequest.Read(fields, options);
        var sampling = request.Sampling;
        var model = models.Find(sampling.Model);
        int[] prompt = request.Tokens(model.Tokenizer, model.VocabSize);
        string promptText = request.PromptText ?? model.Tokenizer.Decode(prompt);
        if (filter.Rules?.CheckInput(promptText) is { IsBlocked: true } verdict)
            throw new ApiException(400, $"the prompt was blocked by the content filter ({verdict.Category})", "prompt", "content_filter");
        // Like OpenAI (and GPT-2), an empty prompt starts a new document: <|endoftext|>, counted as the prompt.
        if (prompt.Length == 0) prompt = [model.Tokenizer.EndOfTextId];
        var choices = sampling.ForChoices(model.Generator.Defaults, prompt.Length, model.ContextSize, model.VocabSize, options.MaxTokensLimit, "prompt");
        bool asked = sampling.Logprobs is not null;

        string id = "cmpl-" + Guid.NewGuid().ToString("N");
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var responses = new GenerationResponses(http, options, metrics, filter, logs.CreateLogger<GenerationJob>());
        if (!sampling.Stream)
        {
            var (texts, finishes, usage, logprobs) = await responses.CompleteAsync(model, prompt, choices);
            var result = texts.Select((t, i) =>
            {
                int offset = 0;
                return new TextCompletion.Choice(t, i, finishes[i]) { Logprobs = asked ? TextLogprobs.From(logprobs[i], model.Tokenizer, ref offset) : null };
            }).ToArray();
            return TypedResults.Json(new TextCompletion(id, created, model.Id, result) { Usage = usage }, WireJson.Options);
        }

        var offsets = new int[choices.Count]; // characters streamed so far per choice, for text_offset
        IEnumerable<object> Format(ChoicePiece piece, bool first)
        {
            if (piece.Text.Length == 0 && piece.FinishReason is null) yield break;
            var logprobs = asked ? TextLogprobs.From(piece.Logprobs, model.Tokenizer, ref offsets[piece.Index]) : null;
            yield return new TextCompletion(id, created, model.Id, [new TextCompletion.Choice(piece.Text, piece.Index, piece.FinishReason) { Logprobs = logprobs }]);
        }
        var events = responses.Stream(model, prompt, choices, sampling.IncludeUsage, Format,
            usage => new TextCompletion(id, created, model.Id, []) { Usage = usage });
        return TypedResults.ServerSentEvents(events);
    }
}
