namespace GptSharp.Tests.Server.Routes;

/// <summary>POST /v1/completions: text completion, whole and streamed.</summary>
[Collection(nameof(ServerCollection))]
public class CompletionsTests(ServerModels models)
{
    HttpClient Http => models.Shared.Client();

    [Fact]
    public async Task APromptIsContinuedWithExactUsage()
    {
        var body = await (await Http.PostAsync("/v1/completions", """{"model": "la", "prompt": "Hello there", "max_tokens": 2}""")).BodyAsync();
        Assert.Equal("text_completion", (string?)body["object"]);
        Assert.StartsWith("cmpl-", (string?)body["id"]);
        var choice = body["choices"]![0]!;
        Assert.Equal(" la la", (string?)choice["text"]);
        Assert.Equal(0, (int)choice["index"]!);
        Assert.Equal("length", (string?)choice["finish_reason"]);
        Assert.Equal(ServerModels.Gpt2.Encode("Hello there").Length, (int)body["usage"]!["prompt_tokens"]!);
        Assert.Equal(2, (int)body["usage"]!["completion_tokens"]!);
    }

    [Fact]
    public async Task TokenIdsAndAnEmptyPromptWork()
    {
        int[] ids = ServerModels.Gpt2.Encode("Hello");
        var body = await (await Http.PostAsync("/v1/completions", $$"""{"model": "la", "prompt": [{{string.Join(",", ids)}}], "max_tokens": 1}""")).BodyAsync();
        Assert.Equal(" la", (string?)body["choices"]![0]!["text"]);
        Assert.Equal(ids.Length, (int)body["usage"]!["prompt_tokens"]!);

        body = await (await Http.PostAsync("/v1/completions", """{"model": "la", "max_tokens": 1}""")).BodyAsync();
        Assert.Equal(1, (int)body["usage"]!["prompt_tokens"]!); // <|endoftext|>
    }

    [Fact]
    public async Task AStreamedCompletionHasOpenAisEvents()
    {
        var response = await Http.PostAsync("/v1/completions",
            """{"model": "la", "prompt": "Hello", "max_tokens": 3, "stream": true, "stream_options": {"include_usage": true}}""");
        var events = Sse.Json(await response.Content.ReadAsStringAsync());
        Assert.All(events, e =>
        {
            Assert.Equal("text_completion", (string?)e["object"]);
            Assert.Equal((string?)events[0]["id"], (string?)e["id"]);
            Assert.Equal((long)events[0]["created"]!, (long)e["created"]!);
        });
        var texts = events.Where(e => e["choices"]!.AsArray().Count > 0).Select(e => e["choices"]![0]!).ToList();
        Assert.Equal(" la la la", string.Concat(texts.Select(c => (string?)c["text"])));
        Assert.Equal("length", (string?)texts[^1]["finish_reason"]);
        Assert.All(texts[..^1], c => Assert.Null(c["finish_reason"]));
        Assert.Equal(3, (int)events[^1]["usage"]!["completion_tokens"]!);
    }

    [Fact]
    public async Task AnUnsafePromptIsRefused() =>
        await (await Http.PostAsync("/v1/completions", """{"model": "la", "prompt": "you idiot"}""")).ErrorAsync(400, "content_filter", "prompt");
}
