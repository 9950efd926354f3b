using System.Net.Http.Json;
using System.Text.Json.Nodes;
using GptSharp.Server;
using GptSharp.Server.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace GptSharp.Tests.Server;

/// <summary>The server on a real loopback socket (Kestrel, port 0), as `gptsharp serve` runs it.</summary>
[Collection(nameof(ServerCollection))]
public class GptServerSocketTests(ServerModels models)
{
    [Fact]
    public async Task ServesOverARealSocketAndStopsCleanly()
    {
        await using var app = GptServer.Build(models.Options() with { Models = [new(models.La, "la")], Port = 0 });
        await app.StartAsync();
        await app.Services.GetRequiredService<ModelRegistry>().Ready.WaitAsync(TimeSpan.FromSeconds(60));
        string url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        Assert.StartsWith("http://127.0.0.1:", url);

        using var http = new HttpClient { BaseAddress = new Uri(url) };
        Assert.Equal("ok", (string?)(await http.GetFromJsonAsync<JsonNode>("/health"))!["state"]);
        var response = await http.PostAsync("/v1/chat/completions", """{"model": "la", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2, "stream": true}""");
        var events = Sse.Json(await response.Content.ReadAsStringAsync());
        Assert.Equal(" la la", string.Concat(events.Select(e => (string?)e["choices"]![0]!["delta"]!["content"])));
        // An oversized body is refused in OpenAI's shape over a socket too.
        var big = await http.PostAsync("/v1/chat/completions", new string(' ', 20_000));
        await big.ErrorAsync(413);
        await app.StopAsync();
    }
}
