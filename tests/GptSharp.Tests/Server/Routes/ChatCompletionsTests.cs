using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;
using OpenAI;
using OpenAI.Chat;
using ChatMessage = OpenAI.Chat.ChatMessage;
using ChatFinishReason = OpenAI.Chat.ChatFinishReason;

namespace GptSharp.Tests.Server.Routes;

/// <summary>POST /v1/chat/completions through the official OpenAI SDK, Microsoft.Extensions.AI's IChatClient and raw HTTP.</summary>
[Collection(nameof(ServerCollection))]
public class ChatCompletionsTests(ServerModels models)
{
    HttpClient Http => models.Shared.Client();

    ChatClient Sdk(string model) => new(model, new ApiKeyCredential("unused"), new OpenAIClientOptions
    {
        Endpoint = new Uri(Http.BaseAddress!, "v1"), Transport = new HttpClientPipelineTransport(Http),
    });

    [Fact]
    public async Task TheOpenAiSdkGetsAReplyWithExactUsage()
    {
        ChatCompletion reply = await Sdk("la").CompleteChatAsync([ChatMessage.CreateUserMessage("hi")], new ChatCompletionOptions { MaxOutputTokenCount = 3 });
        Assert.Equal(" la la la", reply.Content.Single().Text);
        Assert.Equal(ChatFinishReason.Length, reply.FinishReason);
        Assert.Equal(ChatMessageRole.Assistant, reply.Role);
        Assert.Equal("la", reply.Model);
        Assert.StartsWith("chatcmpl-", reply.Id);
        Assert.Equal(ServerModels.PromptTokens("hi"), reply.Usage.InputTokenCount);
        Assert.Equal(3, reply.Usage.OutputTokenCount);
        Assert.Equal(reply.Usage.InputTokenCount + 3, reply.Usage.TotalTokenCount);
    }

    [Fact]
    public async Task TheOpenAiSdkStreamsAReply()
    {
        var text = new System.Text.StringBuilder();
        ChatFinishReason? finish = null;
        ChatTokenUsage? usage = null;
        await foreach (var update in Sdk("la").CompleteChatStreamingAsync([ChatMessage.CreateSystemMessage("Be brief."), ChatMessage.CreateUserMessage("hi")],
                           new ChatCompletionOptions { MaxOutputTokenCount = 4 }))
        {
            foreach (var part in update.ContentUpdate) text.Append(part.Text);
            finish ??= update.FinishReason;
            usage ??= update.Usage;
        }
        Assert.Equal(" la la la la", text.ToString());
        Assert.Equal(ChatFinishReason.Length, finish);
        Assert.Equal(4, usage?.OutputTokenCount);
    }

    [Fact]
    public async Task MicrosoftExtensionsAiTalksToTheServer()
    {
        IChatClient client = Sdk("la").AsIChatClient();
        var response = await client.GetResponseAsync("hi", new ChatOptions { MaxOutputTokens = 2 });
        Assert.Equal(" la la", response.Text);
        Assert.Equal(Microsoft.Extensions.AI.ChatFinishReason.Length, response.FinishReason);
        Assert.Equal(2, response.Usage?.OutputTokenCount);

        var streamed = await client.GetStreamingResponseAsync("hi", new ChatOptions { MaxOutputTokens = 2 }).ToChatResponseAsync();
        Assert.Equal(" la la", streamed.Text);
    }

    [Fact]
    public async Task ANonStreamedReplyHasOpenAisShape()
    {
        var response = await Http.PostAsync("/v1/chat/completions",
            """{"model": "la", "messages": [{"role": "developer", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "h"}, {"type": "text", "text": "i"}]}], "max_tokens": 2, "temperature": 0, "unknown_field": {"ignored": true}}""");
        Assert.Equal("application/json; charset=utf-8", response.Content.Headers.ContentType?.ToString());
        var body = await response.BodyAsync();
        Assert.Equal(["id", "created", "model", "choices", "usage", "object", "system_fingerprint"], body.AsObject().Select(p => p.Key));
        Assert.Equal("chat.completion", (string?)body["object"]);
        var choice = body["choices"]![0]!;
        Assert.Equal(0, (int)choice["index"]!);
        Assert.Equal("assistant", (string?)choice["message"]!["role"]);
        Assert.Equal(" la la", (string?)choice["message"]!["content"]);
        Assert.Equal("length", (string?)choice["finish_reason"]);
        Assert.True(choice.AsObject().ContainsKey("logprobs"));
        int prompt = ServerModels.Template.RenderPrompt([new(GptSharp.Tokenization.TurnRole.System, "Be brief."), new(GptSharp.Tokenization.TurnRole.User, "hi")]).Length;
        Assert.Equal(prompt, (int)body["usage"]!["prompt_tokens"]!);
        Assert.Equal(2, (int)body["usage"]!["completion_tokens"]!);
        Assert.Equal(prompt + 2, (int)body["usage"]!["total_tokens"]!);
    }

    [Fact]
    public async Task AStreamedReplyHasOpenAisChunks()
    {
        var response = await Http.PostAsync("/v1/chat/completions",
            """{"model": "la", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2, "stream": true, "stream_options": {"include_usage": true}}""");
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        string raw = await response.Content.ReadAsStringAsync();
        var events = Sse.Json(raw);
        // The role, content (the content filter holds text back, so pieces may merge), the finish, the usage.
        Assert.True(events.Count >= 4, raw);
        Assert.All(events, e =>
        {
            Assert.Equal("chat.completion.chunk", (string?)e["object"]);
            Assert.Equal((string?)events[0]["id"], (string?)e["id"]);
            Assert.Equal((long)events[0]["created"]!, (long)e["created"]!);
            Assert.Equal("la", (string?)e["model"]);
        });
        Assert.Equal("""{"role":"assistant","content":""}""", events[0]["choices"]![0]!["delta"]!.ToJsonString());
        var content = events[1..^2];
        Assert.Equal(" la la", string.Concat(content.Select(e => (string?)e["choices"]![0]!["delta"]!["content"])));
        Assert.All(content, e => Assert.Equal(["content"], e["choices"]![0]!["delta"]!.AsObject().Select(p => p.Key)));
        Assert.All(events[..^2], e => Assert.Null(e["choices"]![0]!["finish_reason"]));
        var last = events[^2]["choices"]![0]!;
        Assert.Equal("{}", last["delta"]!.ToJsonString());
        Assert.Equal("length", (string?)last["finish_reason"]);
        Assert.Empty(events[^1]["choices"]!.AsArray());
        Assert.Equal(2, (int)events[^1]["usage"]!["completion_tokens"]!);
        Assert.Equal(ServerModels.PromptTokens("hi"), (int)events[^1]["usage"]!["prompt_tokens"]!);
        Assert.All(events[..^1], e => Assert.True(e.AsObject().ContainsKey("usage") && e["usage"] is null)); // "usage": null, as OpenAI's
    }

    [Fact]
    public async Task AStopSequenceAndAnEndTokenFinishWithStop()
    {
        var stopped = await (await Http.PostAsync("/v1/chat/completions",
            """{"model": "la", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5, "stop": "a la"}""")).BodyAsync();
        Assert.Equal(" l", (string?)stopped["choices"]![0]!["message"]!["content"]);
        Assert.Equal("stop", (string?)stopped["choices"]![0]!["finish_reason"]);
        Assert.Equal(2, (int)stopped["usage"]!["completion_tokens"]!); // the token that completed the stop sequence was generated

        var ended = await (await Http.PostAsync("/v1/chat/completions",
            """{"model": "ender", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}""")).BodyAsync();
        Assert.Equal("", (string?)ended["choices"]![0]!["message"]!["content"]);
        Assert.Equal("stop", (string?)ended["choices"]![0]!["finish_reason"]);
        Assert.Equal(0, (int)ended["usage"]!["completion_tokens"]!);
    }

    [Fact]
    public async Task LogitBiasAndPenaltiesReachTheGenerator()
    {
        // The model always says " la" (logit 100 over 0): a bias of -100 takes that lead away, so something else comes out;
        // a frequency penalty of 2 per repeat is too small to matter against it.
        int la = ServerModels.Gpt2.Encode(" la").Single();
        var biased = await (await Http.PostAsync("/v1/chat/completions",
            $$$"""{"model": "la", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 3, "temperature": 0, "logit_bias": {"{{{la}}}": -100}}""")).BodyAsync();
        Assert.DoesNotContain("la", (string?)biased["choices"]![0]!["message"]!["content"]);
        var penalised = await (await Http.PostAsync("/v1/chat/completions",
            """{"model": "la", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 3, "temperature": 0, "frequency_penalty": 2, "presence_penalty": 2, "min_p": 0.5}""")).BodyAsync();
        Assert.Equal(" la la la", (string?)penalised["choices"]![0]!["message"]!["content"]);
    }

    [Fact]
    public async Task SeveralChoicesComeBackEachWithItsIndex()
    {
        var body = await (await Http.PostAsync("/v1/chat/completions",
            """{"model": "la", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2, "n": 2, "seed": 7}""")).BodyAsync();
        var choices = body["choices"]!.AsArray();
        Assert.Equal([0, 1], choices.Select(c => (int)c!["index"]!));
        Assert.All(choices, c => Assert.Equal(" la la", (string?)c!["message"]!["content"]));
        Assert.Equal(4, (int)body["usage"]!["completion_tokens"]!);

        var events = Sse.Json(await (await Http.PostAsync("/v1/chat/completions",
            """{"model": "la", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1, "n": 2, "stream": true}""")).Content.ReadAsStringAsync());
        Assert.Equal([0, 1], events.Select(e => (int)e["choices"]![0]!["index"]!).Distinct());
        Assert.Equal(2, events.Count(e => (string?)e["choices"]![0]!["delta"]!["role"] == "assistant"));
        Assert.Equal(2, events.Count(e => (string?)e["choices"]![0]!["finish_reason"] == "length"));
    }

    [Fact]
    public async Task TheContentFilterRefusesUnsafeInput()
    {
        var response = await Http.PostAsync("/v1/chat/completions",
            """{"model": "la", "messages": [{"role": "user", "content": "hello"}, {"role": "assistant", "content": "hi"}, {"role": "user", "content": "you idiot"}]}""");
        await response.ErrorAsync(400, "content_filter", "messages[2].content");
    }

    [Fact]
    public async Task TheContentFilterStopsUnsafeOutputStreamingIncluded()
    {
        var body = await (await Http.PostAsync("/v1/chat/completions",
            """{"model": "rude", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}""")).BodyAsync();
        Assert.Equal("content_filter", (string?)body["choices"]![0]!["finish_reason"]);
        Assert.DoesNotContain("idiot", (string?)body["choices"]![0]!["message"]!["content"]);

        string raw = await (await Http.PostAsync("/v1/chat/completions",
            """{"model": "rude", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5, "stream": true}""")).Content.ReadAsStringAsync();
        Assert.DoesNotContain("idiot", raw);
        var events = Sse.Json(raw);
        Assert.Equal("content_filter", (string?)events[^1]["choices"]![0]!["finish_reason"]);
    }

    [Fact]
    public async Task AnUnknownModelIs404AndABaseModelDoesNotChat()
    {
        var error = await (await Http.PostAsync("/v1/chat/completions", """{"model": "nope", "messages": [{"role": "user", "content": "hi"}]}"""))
            .ErrorAsync(404, "model_not_found", "model");
        Assert.Contains("la", (string?)error["message"]);
        await (await Http.PostAsync("/v1/chat/completions", """{"model": "base", "messages": [{"role": "user", "content": "hi"}]}"""))
            .ErrorAsync(400, "model_not_chat", "model");
    }
}
