using GptSharp.Server;
using GptSharp.Server.Hosting;
using GptSharp.Server.Options;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace GptSharp.Tests.Server;

/// <summary>The real server (<see cref="GptServer.Build"/>) on an in-process test server, models loaded.</summary>
sealed class TestHost : IAsyncDisposable
{
    TestHost(WebApplication app) => App = app;

    public WebApplication App { get; }
    public ModelRegistry Models => App.Services.GetRequiredService<ModelRegistry>();

    public static async Task<TestHost> StartAsync(ServerOptions options, Action<WebApplicationBuilder>? configure = null, bool waitForModels = true)
    {
        var app = GptServer.Build(options, b =>
        {
            b.WebHost.UseTestServer();
            configure?.Invoke(b);
        });
        await app.StartAsync();
        var host = new TestHost(app);
        if (waitForModels) await host.Models.Ready.WaitAsync(TimeSpan.FromSeconds(60));
        return host;
    }

    public HttpClient Client(string? key = null)
    {
        var client = App.GetTestClient();
        if (key is not null) client.DefaultRequestHeaders.Authorization = new("Bearer", key);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
