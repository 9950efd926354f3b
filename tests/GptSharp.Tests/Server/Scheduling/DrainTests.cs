using GptSharp.Inference;
using GptSharp.Server;
using GptSharp.Server.Hosting;
using GptSharp.Server.Scheduling;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace GptSharp.Tests.Server.Scheduling;

/// <summary>Stopping the server (Ctrl+C in `serve`) lets a request in flight finish first, on a real socket.</summary>
[Collection(nameof(ServerCollection))]
public class DrainTests(ServerModels models)
{
    [Fact]
    public async Task StoppingWaitsForTheStreamInFlight()
    {
        GateScheduler? gate = null;
        await using var app = GptServer.Build(models.Options() with { Models = [new(models.La, "la")], Port = 0 },
            b => b.Services.AddSingleton<SchedulerFactory>((id, _) => gate = new GateScheduler(id, 4)));
        await app.StartAsync();
        await app.Services.GetRequiredService<ModelRegistry>().Ready.WaitAsync(TimeSpan.FromSeconds(60));
        string url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();

        using var http = new HttpClient { BaseAddress = new Uri(url) };
        var request = http.PostAsync("/v1/chat/completions", """{"model": "la", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 3, "stream": true}""");
        var sequence = await gate!.AdmittedAsync();
        var stopping = app.StopAsync();
        await Task.Delay(200);
        Assert.False(stopping.IsCompleted, "the server stopped with a request in flight");

        sequence.Write(new TextDelta(" la", [1], 4) { FinishReason = FinishReason.Length });
        sequence.Complete();
        var events = Sse.Json(await (await request).Content.ReadAsStringAsync());
        Assert.Equal("length", (string?)events[^1]["choices"]![0]!["finish_reason"]);
        await stopping.WaitAsync(TimeSpan.FromSeconds(10));
    }
}
