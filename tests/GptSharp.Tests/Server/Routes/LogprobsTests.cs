using System.Text;
using System.Text.Json.Nodes;

namespace GptSharp.Tests.Server.Routes;

/// <summary>logprobs: chat's (logprobs + top_logprobs) and text completions' (a count), whole and streamed, in OpenAI's shapes.</summary>
[Collection(nameof(ServerCollection))]
public class LogprobsTests(ServerModels models)
{
    HttpClient Http => models.Shared.Client();
    static readonly int[] La = [.. Encoding.UTF8.GetBytes(" la").Select(b => (int)b)];

    /// <summary>The "la" model always says " la": each entry is that token, the most likely, with its own log-probability on top.</summary>
    static void CheckLa(JsonNode entry, int alternatives)
    {
        Assert.Equal(" la", (string?)entry["token"]);
        Assert.Equal(La, entry["bytes"]!.AsArray().Select(b => (int)b!));
        double lp = (double)entry["logprob"]!;
        Assert.InRange(lp, -0.5, 0); // a strongly biased model: nearly certain
        var top = entry["top_logprobs"]!.AsArray();
        Assert.Equal(alternatives, top.Count);
        if (alternatives == 0) return;
        Assert.Equal(" la", (string?)top[0]!["token"]);
        Assert.Equal(lp, (double)top[0]!["logprob"]!, 6);
        Assert.True(top.Zip(top.Skip(1)).All(p => (double)p.First!["logprob"]! >= (double)p.Second!["logprob"]!), "most likely first");
    }

    [Fact]
    public async Task AChatChoiceCarriesEachTokensLogprobAndAlternatives()
    {
        var body = await (await Http.PostAsync("/v1/chat/completions",
            """{"model": "la", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 3, "logprobs": true, "top_logprobs": 2}""")).BodyAsync();
        var logprobs = body["choices"]![0]!["logprobs"]!;
        var content = logprobs["content"]!.AsArray();
        Assert.Equal(3, content.Count);
        foreach (var entry in content) CheckLa(entry!, 2);
        Assert.True(logprobs.AsObject().ContainsKey("refusal"));

        body = await (await Http.PostAsync("/v1/chat/completions",
            """{"model": "la", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2, "logprobs": true}""")).BodyAsync();
        foreach (var entry in body["choices"]![0]!["logprobs"]!["content"]!.AsArray()) CheckLa(entry!, 0);

        body = await (await Http.PostAsync("/v1/chat/completions",
            """{"model": "la", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}""")).BodyAsync();
        Assert.Null(body["choices"]![0]!["logprobs"]); // not asked: null, as OpenAI's
    }

    [Fact]
    public async Task StreamedChatChunksCarryTheirTokensLogprobs()
    {
        var response = await Http.PostAsync("/v1/chat/completions",
            """{"model": "la", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 4, "stream": true, "logprobs": true, "top_logprobs": 1}""");
        var events = Sse.Json(await response.Content.ReadAsStringAsync());
        var entries = events.SelectMany(e => e["choices"]!.AsArray())
            .Select(c => c!["logprobs"]).Where(l => l is not null).SelectMany(l => l!["content"]!.AsArray()).ToList();
        Assert.Equal(4, entries.Count);
        foreach (var entry in entries) CheckLa(entry!, 1);
    }

    [Fact]
    public async Task TextCompletionsUseTheLegacyShape()
    {
        var body = await (await Http.PostAsync("/v1/completions", """{"model": "la", "prompt": "Hello", "max_tokens": 3, "logprobs": 2}""")).BodyAsync();
        var logprobs = body["choices"]![0]!["logprobs"]!;
        Assert.Equal([" la", " la", " la"], logprobs["tokens"]!.AsArray().Select(t => (string?)t));
        Assert.Equal([0, 3, 6], logprobs["text_offset"]!.AsArray().Select(o => (int)o!));
        var values = logprobs["token_logprobs"]!.AsArray().Select(v => (double)v!).ToArray();
        Assert.All(values, v => Assert.InRange(v, -0.5, 0));
        var top = logprobs["top_logprobs"]!.AsArray();
        Assert.All(top, t => Assert.Equal(2, t!.AsObject().Count));
        Assert.Equal(values[0], (double)top[0]![" la"]!, 6);

        var streamed = Sse.Json(await (await Http.PostAsync("/v1/completions",
            """{"model": "la", "prompt": "Hello", "max_tokens": 3, "logprobs": 0, "stream": true}""")).Content.ReadAsStringAsync());
        var pieces = streamed.SelectMany(e => e["choices"]!.AsArray()).Select(c => c!["logprobs"]).Where(l => l is not null).ToList();
        Assert.Equal([" la", " la", " la"], pieces.SelectMany(l => l!["tokens"]!.AsArray()).Select(t => (string?)t));
        Assert.Equal([0, 3, 6], pieces.SelectMany(l => l!["text_offset"]!.AsArray()).Select(o => (int)o!));
    }

    [Theory]
    [InlineData("""{"model": "la", "prompt": "Hello", "logprobs": 6}""", "invalid_value")]
    [InlineData("""{"model": "la", "prompt": "Hello", "logprobs": true}""", "invalid_type")]
    public async Task BadTextCompletionLogprobsAre400(string body, string code) =>
        await (await Http.PostAsync("/v1/completions", body)).ErrorAsync(400, code, "logprobs");
}
