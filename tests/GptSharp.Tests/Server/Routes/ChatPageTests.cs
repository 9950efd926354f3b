using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using GptSharp.Server;
using GptSharp.Server.Hosting;
using GptSharp.Server.Scheduling;
using GptSharp.Tests.Server.Scheduling;
using GptSharp.Tokenization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace GptSharp.Tests.Server.Routes;

/// <summary>
/// The web chat page at /: served open (the API still wants its key), and driven in headless chromium against a real
/// server on a loopback socket: streamed replies with tokens/s, multi-turn history and the system prompt as the server
/// received them, the stop button, errors in OpenAI's words, the key kept in the browser.
/// </summary>
[Collection(nameof(ServerCollection))]
public class ChatPageTests(ServerModels models, ChromiumBrowser chromium, ITestOutputHelper output) : IClassFixture<ChromiumBrowser>
{
    const string Key = "sk-page";

    [Fact]
    public async Task ThePageIsServedWithoutAKeyWhileTheApiStillNeedsOne()
    {
        await using var host = await TestHost.StartAsync(models.Options() with { ApiKeys = [Key], RateLimitPerMinute = 1 });
        var client = host.Client();
        var page = await client.GetAsync("/");
        Assert.Equal(200, (int)page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Contains("default-src 'self'", page.Headers.GetValues("Content-Security-Policy").Single());
        string html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<script src=\"chat.js\"", html);
        Assert.DoesNotContain("://", html); // nothing from elsewhere: it works offline
        foreach (var (path, type) in new[] { ("/chat.js", "text/javascript"), ("/chat.css", "text/css") })
        {
            var file = await client.GetAsync(path);
            Assert.Equal(200, (int)file.StatusCode);
            Assert.Equal(type, file.Content.Headers.ContentType?.MediaType);
        }
        // Open routes are not rate limited either (the limit here is 1 a minute); the API still wants the key.
        Assert.Equal(200, (int)(await client.GetAsync("/")).StatusCode);
        await (await client.GetAsync("/v1/models")).ErrorAsync(401, "invalid_api_key");
        await (await client.GetAsync("/index.html")).ErrorAsync(401);
    }

    [Fact]
    public async Task StreamsRepliesWithTheirSpeedAndSendsTheWholeConversation()
    {
        if (Skipped()) return;
        await using var server = await PageServer.StartAsync(models);
        var page = await NewPageAsync(server);
        var urls = new ConcurrentQueue<string>();
        page.Request += (_, r) => urls.Enqueue(r.Url);
        await page.GotoAsync(server.Url);

        // Without the key the models cannot be listed, and the page says why in the server's words.
        await Expect(page.Locator("#error")).ToContainTextAsync("You didn't provide an API key");
        await page.FillAsync("#api-key", Key);
        await page.DispatchEventAsync("#api-key", "change");
        await Expect(page.Locator("#model option")).ToHaveTextAsync(["la", "slow"]);
        await Expect(page.Locator("#error")).ToBeHiddenAsync();

        await page.FillAsync("#system", "Be brief.");
        await page.FillAsync("#temperature", "0");
        await page.FillAsync("#max-tokens", "3");
        await page.FillAsync("#prompt", "hi");
        await page.PressAsync("#prompt", "Enter");
        var first = page.Locator(".message.assistant").Nth(0);
        await Expect(first.Locator(".content")).ToHaveTextAsync(" la la la");
        await Expect(first.Locator(".stats")).ToContainTextAsync(new Regex(@"3 tokens · \d+(\.\d)? tokens/s"));

        var second = await page.RunAndWaitForRequestAsync(async () =>
        {
            await page.FillAsync("#prompt", "and again");
            await page.ClickAsync("#send");
        }, r => r.Url.EndsWith("/v1/chat/completions", StringComparison.Ordinal));
        var body = JsonNode.Parse(second.PostData!)!;
        Assert.True((bool)body["stream"]! && (bool)body["stream_options"]!["include_usage"]!);
        Assert.Equal(3, (int)body["max_tokens"]!);
        Assert.Equal(0.0, (double)body["temperature"]!);
        await Expect(page.Locator(".message.assistant").Nth(1).Locator(".stats")).ToContainTextAsync("tokens/s");

        // The server received the system prompt and both user turns, with the first reply between them.
        ChatTurn[] conversation =
        [
            new(TurnRole.System, "Be brief."), new(TurnRole.User, "hi"), new(TurnRole.Assistant, " la la la"), new(TurnRole.User, "and again"),
        ];
        int[] expected = ServerModels.Template.RenderPrompt(conversation);
        Assert.Equal(expected, server.Recorders["la"].Prompts.Last());
        await Expect(page.Locator(".message.assistant").Nth(1).Locator(".stats")).ToContainTextAsync($"{expected.Length} prompt tokens");
        Assert.All(urls, u => Assert.StartsWith(server.Url, u));

        // The key stays in this browser: a reload lists the models at once.
        await page.ReloadAsync();
        await Expect(page.Locator("#api-key")).ToHaveValueAsync(Key);
        await Expect(page.Locator("#model option")).ToHaveCountAsync(2);

        // With max tokens left empty the page asks for none: the model's default, within its small context.
        await page.FillAsync("#max-tokens", "");
        var third = await page.RunAndWaitForRequestAsync(async () =>
        {
            await page.FillAsync("#prompt", "hello");
            await page.ClickAsync("#send");
        }, r => r.Url.EndsWith("/v1/chat/completions", StringComparison.Ordinal));
        Assert.Null(JsonNode.Parse(third.PostData!)!["max_tokens"]);
        await Expect(page.Locator(".message.assistant").Nth(0).Locator(".stats")).ToContainTextAsync("tokens/s");
        await Expect(page.Locator("#error")).ToBeHiddenAsync();
    }

    [Fact]
    public async Task TheStopButtonEndsALongStream()
    {
        if (Skipped()) return;
        await using var server = await PageServer.StartAsync(models);
        var page = await NewPageAsync(server, Key);
        await page.GotoAsync(server.Url);
        await Expect(page.Locator("#model option")).ToHaveCountAsync(2);
        await page.SelectOptionAsync("#model", "slow");
        await page.FillAsync("#max-tokens", "40"); // 40 tokens at 100 ms each: 4 s unless stopped
        await page.FillAsync("#prompt", "tell me everything");
        await page.ClickAsync("#send");

        var reply = page.Locator(".message.assistant .content");
        await Expect(reply).ToContainTextAsync(" la"); // streamed: text shows while the reply goes on
        await Expect(page.Locator("#send")).ToBeDisabledAsync();
        await page.ClickAsync("#stop");
        await Expect(page.Locator(".message.assistant .stats")).ToContainTextAsync("stopped");
        await Expect(page.Locator("#send")).ToBeEnabledAsync();
        int words = (await reply.TextContentAsync())!.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        Assert.InRange(words, 1, 39);
        // The server saw the client go away and stopped the sequence.
        for (int i = 0; i < 100 && server.Recorders["slow"].Stopped == 0; i++) await Task.Delay(50);
        Assert.Equal(1, server.Recorders["slow"].Stopped);
    }

    [Fact]
    public async Task ShowsTheServersErrorAndGivesTheMessageBack()
    {
        if (Skipped()) return;
        await using var server = await PageServer.StartAsync(models);
        var page = await NewPageAsync(server, Key);
        await page.GotoAsync(server.Url);
        await Expect(page.Locator("#model option")).ToHaveCountAsync(2);
        await page.FillAsync("#max-tokens", "200"); // beyond the tiny model's 64-token context
        await page.FillAsync("#prompt", "hello");
        await page.ClickAsync("#send");
        await Expect(page.Locator("#error")).ToContainTextAsync("(context_length_exceeded)");
        await Expect(page.Locator(".message.assistant")).ToHaveCountAsync(0);
        await Expect(page.Locator("#prompt")).ToHaveValueAsync("hello");
        Assert.Empty(server.Recorders["la"].Prompts);
    }

    bool Skipped()
    {
        if (chromium.Browser is not null) return false;
        output.WriteLine($"SKIPPED: {chromium.SkipReason}");
        return true;
    }

    async Task<IPage> NewPageAsync(PageServer server, string? key = null)
    {
        var context = await chromium.Browser!.NewContextAsync(new() { BaseURL = server.Url });
        context.SetDefaultTimeout(20_000);
        SetDefaultExpectTimeout(20_000);
        server.Contexts.Add(context);
        // A stored key, as a returning user has it.
        if (key is not null) await context.AddInitScriptAsync($"localStorage.setItem('gptsharp.apiKey', '{key}')");
        return await context.NewPageAsync();
    }

    /// <summary>
    /// The server on a loopback socket with key <see cref="Key"/>, serving the "la" model twice: as "la", and as "slow",
    /// whose every token takes 100 ms; each model's scheduler records what it was asked.
    /// </summary>
    sealed class PageServer : IAsyncDisposable
    {
        public required WebApplication App { get; init; }
        public required string Url { get; init; }
        public ConcurrentDictionary<string, RecordingScheduler> Recorders { get; } = new();
        public List<IBrowserContext> Contexts { get; } = [];

        public static async Task<PageServer> StartAsync(ServerModels models)
        {
            var recorders = new ConcurrentDictionary<string, RecordingScheduler>();
            var options = models.Options() with { Models = [new(models.La, "la"), new(models.La, "slow")], ApiKeys = [Key], Port = 0 };
            var app = GptServer.Build(options, b => b.Services.AddSingleton<SchedulerFactory>((id, generator) =>
                recorders[id] = new RecordingScheduler(new ContinuousBatchingScheduler(generator, id, options.MaxBatch, options.MaxQueue),
                    id == "slow" ? TimeSpan.FromMilliseconds(100) : TimeSpan.Zero)));
            await app.StartAsync();
            await app.Services.GetRequiredService<ModelRegistry>().Ready.WaitAsync(TimeSpan.FromSeconds(60));
            string url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single() + "/";
            var server = new PageServer { App = app, Url = url };
            foreach (var (id, r) in recorders) server.Recorders[id] = r;
            return server;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var c in Contexts) await c.DisposeAsync();
            await App.StopAsync();
            await App.DisposeAsync();
        }
    }
}
