using GptSharp.Checkpoints;
using GptSharp.Models;
using GptSharp.Server;
using GptSharp.Server.Hosting;
using GptSharp.Server.Options;
using GptSharp.Tokenization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace GptSharp.ServeBench;

/// <summary>
/// The real server (<see cref="GptServer.Build"/>, Kestrel on a loopback port) over GPT-2 124M with random weights, saved
/// as a chat model directory (GPT-2's tokenizer; the preset's padded vocabulary holds the role tokens), in this process.
/// </summary>
sealed class InProcessServer : IAsyncDisposable
{
    readonly WebApplication _app;
    readonly string _dir;

    InProcessServer(WebApplication app, string dir, string url) => (_app, _dir, Url) = (app, dir, url);

    public string Url { get; }
    public LoadedModel Model => _app.Services.GetRequiredService<ModelRegistry>().Models.Single();

    public static async Task<InProcessServer> StartAsync(ServeBenchOptions o)
    {
        string dir = Directory.CreateTempSubdirectory("gptsharp-servebench-").FullName;
        using (var model = Gpt.Create(GptPresets.Get("gpt2"), seed: 1337))
            new ModelDirectory(model, BpeTokenizer.Gpt2()).Save(Path.Combine(dir, o.ModelId));
        var options = new ServerOptions
        {
            Models = [new(Path.Combine(dir, o.ModelId), o.ModelId)], Port = 0, Precision = InferencePrecisionNames.Parse(o.Precision),
            Engine = DecodingEngineNames.Parse(o.Engine),
            MaxBatch = o.MaxBatch, MaxQueue = Math.Max(64, Math.Max(o.Levels.Max(), o.SoakConcurrency)), Filter = o.Filter,
        };
        var app = GptServer.Build(options);
        await app.StartAsync();
        await app.Services.GetRequiredService<ModelRegistry>().Ready.WaitAsync(TimeSpan.FromMinutes(5));
        string url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return new InProcessServer(app, dir, url);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
