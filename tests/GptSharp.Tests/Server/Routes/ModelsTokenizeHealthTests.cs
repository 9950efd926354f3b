using GptSharp.Server.Scheduling;
using Microsoft.Extensions.DependencyInjection;

namespace GptSharp.Tests.Server.Routes;

/// <summary>GET /v1/models, /v1/models/{id}, /health and the llama.cpp-style tokenizer routes.</summary>
[Collection(nameof(ServerCollection))]
public class ModelsTokenizeHealthTests(ServerModels models)
{
    HttpClient Http => models.Shared.Client();

    [Fact]
    public async Task ModelsAreListedAndFoundInOpenAisShape()
    {
        var list = await Http.GetJsonAsync("/v1/models");
        Assert.Equal("list", (string?)list["object"]);
        Assert.Equal(["la", "rude", "ender", "base", "small"], list["data"]!.AsArray().Select(m => (string?)m!["id"]));
        var one = await Http.GetJsonAsync("/v1/models/la");
        Assert.Equal(["id", "created", "object", "owned_by"], one.AsObject().Select(p => p.Key));
        Assert.Equal("model", (string?)one["object"]);
        Assert.True((long)one["created"]! > 1_700_000_000);
        await (await Http.GetAsync("/v1/models/nope")).ErrorAsync(404, "model_not_found");
    }

    [Fact]
    public async Task TokenizeAndDetokenizeRoundTrip()
    {
        var tokens = await (await Http.PostAsync("/tokenize", """{"content": "Hello world"}""")).BodyAsync();
        int[] ids = tokens["tokens"]!.AsArray().Select(t => (int)t!).ToArray();
        Assert.Equal(ServerModels.Gpt2.Encode("Hello world"), ids);
        var text = await (await Http.PostAsync("/detokenize", $$"""{"tokens": [{{string.Join(",", ids)}}]}""")).BodyAsync();
        Assert.Equal("Hello world", (string?)text["content"]);

        var pieces = await (await Http.PostAsync("/tokenize", """{"content": "Hello world", "with_pieces": true}""")).BodyAsync();
        Assert.Equal(["Hello", " world"], pieces["tokens"]!.AsArray().Select(p => (string?)p!["piece"]));
        Assert.Equal(ids, pieces["tokens"]!.AsArray().Select(p => (int)p!["id"]!));

        // Another model's tokenizer, chosen by "model".
        var small = await (await Http.PostAsync("/tokenize", """{"content": "Where is order", "model": "small"}""")).BodyAsync();
        Assert.NotEqual(ServerModels.Gpt2.Encode("Where is order"), small["tokens"]!.AsArray().Select(t => (int)t!).ToArray());

        await (await Http.PostAsync("/detokenize", """{"tokens": [99999999]}""")).ErrorAsync(400, "invalid_value", "tokens");
        await (await Http.PostAsync("/tokenize", """{}""")).ErrorAsync(400, "missing_required_parameter", "content");
    }

    [Fact]
    public async Task HealthSaysOkOnceLoaded()
    {
        var response = await Http.GetAsync("/health");
        Assert.Equal(200, (int)response.StatusCode);
        var body = await response.BodyAsync();
        Assert.Equal("ok", (string?)body["state"]);
    }

    [Fact]
    public async Task HealthIs503WhileTheModelsLoad()
    {
        // Loading ends with making the model's scheduler: hold it there.
        using var hold = new ManualResetEventSlim();
        await using var host = await TestHost.StartAsync(models.Options() with { Models = [new(models.La, "la")] },
            b => b.Services.AddSingleton<SchedulerFactory>((id, generator) => { hold.Wait(); return new ContinuousBatchingScheduler(generator, id, 1, 1); }),
            waitForModels: false);
        var loading = await host.Client().GetAsync("/health");
        Assert.Equal(503, (int)loading.StatusCode);
        Assert.Equal("loading", (string?)(await loading.BodyAsync())["state"]);
        await (await host.Client().PostAsync("/v1/chat/completions", """{"model": "la", "messages": [{"role": "user", "content": "hi"}]}"""))
            .ErrorAsync(503, "model_loading");
        hold.Set();
        await host.Models.Ready.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(200, (int)(await host.Client().GetAsync("/health")).StatusCode);
    }

    [Fact]
    public async Task HealthIs503WhenTheModelsDidNotLoad()
    {
        using var tmp = new Fixture.TempDir();
        Directory.CreateDirectory(tmp["empty"]);
        await using var host = await TestHost.StartAsync(new() { Models = [new(tmp["empty"])] }, waitForModels: false);
        await Assert.ThrowsAnyAsync<Exception>(() => host.Models.Ready);
        var response = await host.Client().GetAsync("/health");
        Assert.Equal(503, (int)response.StatusCode);
        Assert.Equal("error", (string?)(await response.BodyAsync())["state"]);
        await (await host.Client().GetAsync("/v1/models")).ErrorAsync(503, "model_loading");
    }
}
