using GptSharp.Inference;
using GptSharp.Server.Errors;
using GptSharp.Server.Generation;
using GptSharp.Server.Hosting;
using GptSharp.Server.Metrics;
using GptSharp.Server.Options;
using GptSharp.Server.Requests;
using GptSharp.Server.Responses;
using GptSharp.Tokenization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace GptSharp.Server.Routes;

/// <summary>POST /v1/chat/completions: the conversation rendered with the model's chat template, answered whole or streamed.</summary>
public static class ChatCompletionsEndpoint
{
    public static async Task<Results<JsonHttpResult<ChatCompletion>, ServerSentEventsResult<string>>> HandleAsync(
        HttpContext http, ModelRegistry models, ServerOptions options, ServerMetrics metrics, ServedFilter filter, ILoggerFactory logs)
    {
        models.RequireReady();
        var fields = await RequestBody.ReadJsonAsync(http.Request, options.MaxRequestBytes, http.RequestAborted);
        var request = ChatCompletionRequest.Read(fields, options);
        var sampling = request.Sampling;
        var model = models.Find(sampling.Model);
        var template = model.ChatTemplate
            ?? throw ApiException.Invalid("model", $"'{model.Id}' is a base model without a chat template: use /v1/completions", "model_not_chat");
        CheckInput(request.Messages, filter);
        int[] prompt = template.RenderPrompt(request.Messages);
        var choices = sampling.ForChoices(model.Generator.Defaults, prompt.Length, model.ContextSize, model.VocabSize, options.MaxTokensLimit, "messages");
        bool asked = sampling.Logprobs is not null;

        string id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var responses = new GenerationResponses(http, options, metrics, filter, logs.CreateLogger<GenerationJob>());
        if (!sampling.Stream)
        {
            var (texts, finishes, usage, logprobs) = await responses.CompleteAsync(model, prompt, choices);
            var result = texts.Select((t, i) => new ChatCompletion.Choice(i, new ChatCompletion.Message(t), finishes[i])
                { Logprobs = asked ? ChatLogprobs.From(logprobs[i], model.Tokenizer) : null }).ToArray();
            return TypedResults.Json(new ChatCompletion(id, created, model.Id, result, usage), WireJson.Options);
        }

        ChatCompletionChunk Chunk(int index, string? role, string? content, string? finish, IReadOnlyList<TokenLogprob>? logprobs = null) =>
            new(id, created, model.Id, [new ChatCompletionChunk.Choice(index, new ChatCompletionChunk.Delta(role, content), finish)
                { Logprobs = asked && logprobs is { Count: > 0 } ? ChatLogprobs.From(logprobs, model.Tokenizer) : null }]);
        IEnumerable<object> Format(ChoicePiece piece, bool first)
        {
            if (first) yield return Chunk(piece.Index, "assistant", "", null);
            // Log-probabilities go with the text they belong to; any left when the text is all out go with the finish.
            if (piece.Text.Length > 0) yield return Chunk(piece.Index, null, piece.Text, null, piece.Logprobs);
            if (piece.FinishReason is { } f) yield return Chunk(piece.Index, null, null, f, piece.Text.Length > 0 ? null : piece.Logprobs);
        }
        var events = responses.Stream(model, prompt, choices, sampling.IncludeUsage, Format,
            usage => new ChatCompletionChunk(id, created, model.Id, []) { Usage = usage });
        return TypedResults.ServerSentEvents(events);
    }

    /// <summary>A message the filter blocks is refused before anything is generated (the assistant's own turns are not checked).</summary>
    static void CheckInput(IReadOnlyList<ChatTurn> messages, ServedFilter filter)
    {
        if (filter.Rules is not { } rules) return;
        for (int i = 0; i < messages.Count; i++)
            if (messages[i].Role != TurnRole.Assistant && rules.CheckInput(messages[i].Content) is { IsBlocked: true } verdict)
                throw new ApiException(400, $"messages[{i}] was blocked by the content filter ({verdict.Category})", $"messages[{i}].content", "content_filter");
    }
}
