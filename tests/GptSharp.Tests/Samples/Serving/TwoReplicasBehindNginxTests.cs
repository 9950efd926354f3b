using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using GptSharp.Server;
using GptSharp.Server.Hosting;
using GptSharp.Server.Scheduling;
using GptSharp.Tests.Cli;
using GptSharp.Tests.Server;
using GptSharp.Tests.Server.Scheduling;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace GptSharp.Tests.Samples.Serving;

/// <summary>
/// samples/serving/nginx.conf as written (only its ports rewritten), in front of two servers on
/// loopback sockets: requests, streamed and not, reach both replicas, and a stream's events come through the proxy as
/// they are generated, not buffered to the end.
/// </summary>
[Collection(nameof(ServerCollection))]
public class TwoReplicasBehindNginxTests(ServerModels models, ITestOutputHelper output)
{
    const int Requests = 8;
    static readonly TimeSpan PerToken = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task BothReplicasServeAndStreamsAreNotBuffered()
    {
        if (NginxProxy.Missing() is { } reason)
        {
            output.WriteLine($"SKIPPED: {reason}");
            return;
        }
        await using var one = await StartReplicaAsync();
        await using var two = await StartReplicaAsync();
        string config = File.ReadAllText(Path.Combine(ReadmeCommandsTests.RepoRoot, "samples", "serving", "nginx.conf"));
        Assert.Equal(2, Regex.Matches(config, @"server 127\.0\.0\.1:\d+").Count);
        // What streams need from any proxy (nginx 1.22 happens to pass these small events on even when buffering, so
        // the timing below cannot tell; the settings are checked as written).
        foreach (string directive in (string[])["proxy_buffering off;", "proxy_http_version 1.1;", "proxy_set_header Connection \"\";", "proxy_read_timeout 330s;"])
            Assert.Contains(directive, config);
        int replica = 0;
        config = Regex.Replace(config, @"server 127\.0\.0\.1:\d+", _ => $"server {(replica++ == 0 ? one : two).Address}");
        using var nginx = await NginxProxy.StartAsync(config);
        using var http = new HttpClient { BaseAddress = new Uri(nginx.Url), Timeout = TimeSpan.FromSeconds(60) };

        // Whole replies and streams, several at once.
        var calls = Enumerable.Range(0, Requests).Select(async i =>
        {
            bool stream = i % 2 == 1;
            var response = await http.PostAsync("/v1/chat/completions",
                $$"""{"model": "la", "messages": [{"role": "user", "content": "hi {{i}}"}], "max_tokens": 3, "stream": {{(stream ? "true" : "false")}}}""");
            string body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode}: {body}\n{nginx.ErrorLog()}");
            if (stream) Assert.Equal(" la la la", string.Concat(Sse.Json(body).Select(e => (string?)e["choices"]![0]!["delta"]!["content"])));
            else Assert.Contains("\" la la la\"", body);
        });
        await Task.WhenAll(calls);
        // A replica counts a request once its response is complete, just after the client has read the end.
        int[] served = [];
        for (int i = 0; i < 100 && (served.Length == 0 || served.Sum() < Requests); i++)
        {
            if (i > 0) await Task.Delay(50);
            served = [await one.ServedAsync(), await two.ServedAsync()];
        }
        output.WriteLine($"served: {served[0]} and {served[1]}");
        Assert.All(served, n => Assert.True(n > 0, $"a replica served nothing: {served[0]} and {served[1]}"));
        Assert.Equal(Requests, served.Sum());

        // A stream of 10 tokens, 100 ms apart: its first event comes through long before its last.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions")
        {
            Content = new StringContent("""{"model": "la", "messages": [{"role": "user", "content": "slowly"}], "max_tokens": 10, "stream": true}""",
                System.Text.Encoding.UTF8, "application/json"),
        };
        foreach (var r in new[] { one, two }) r.Slow = true;
        var clock = Stopwatch.StartNew();
        using var streamed = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal("text/event-stream", streamed.Content.Headers.ContentType?.MediaType);
        using var reader = new StreamReader(await streamed.Content.ReadAsStreamAsync());
        var arrivals = new List<(TimeSpan At, string Line)>();
        while (await reader.ReadLineAsync() is { } line)
            if (line.StartsWith("data: ", StringComparison.Ordinal)) arrivals.Add((clock.Elapsed, line));
        Assert.True(arrivals.Count > 2 && arrivals[^1].Line == "data: [DONE]", string.Join("\n", arrivals.Select(a => a.Line)));
        var firstToken = arrivals.First(a => a.Line.Contains("\" la\"", StringComparison.Ordinal)).At;
        output.WriteLine($"first token after {firstToken.TotalMilliseconds:0} ms, [DONE] after {arrivals[^1].At.TotalMilliseconds:0} ms");
        Assert.True(arrivals[^1].At - firstToken >= PerToken * 5, "the proxy held the events back until the stream ended");

        // Metrics are scraped per replica, not through the balancer.
        Assert.Equal(404, (int)(await http.GetAsync("/metrics")).StatusCode);
    }

    async Task<Replica> StartReplicaAsync()
    {
        Replica? replica = null;
        // No content filter: it holds a short reply's text back to judge it whole, which would hide what the proxy does.
        var options = models.Options() with { Models = [new(models.La, "la")], Port = 0, Filter = "none" };
        var app = GptServer.Build(options, b => b.Services.AddSingleton<SchedulerFactory>((id, generator) =>
            new RecordingScheduler(new ContinuousBatchingScheduler(generator, id, options.MaxBatch, options.MaxQueue), () => replica!.Slow ? PerToken : TimeSpan.Zero)));
        await app.StartAsync();
        await app.Services.GetRequiredService<ModelRegistry>().Ready.WaitAsync(TimeSpan.FromSeconds(60));
        string url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        return replica = new Replica(app, new Uri(url));
    }

    /// <summary>One server on a loopback socket.</summary>
    sealed class Replica(WebApplication app, Uri url) : IAsyncDisposable
    {
        public string Address => $"{url.Host}:{url.Port}";
        /// <summary>Whether tokens come 100 ms apart.</summary>
        public volatile bool Slow;

        /// <summary>Successful chat completions, from the replica's own /metrics.</summary>
        public async Task<int> ServedAsync()
        {
            using var http = new HttpClient { BaseAddress = url };
            string metrics = await http.GetStringAsync("/metrics");
            var line = Regex.Match(metrics, @"^gptsharp_requests_total\{route=""/v1/chat/completions"",status=""200""\} (\S+)$", RegexOptions.Multiline);
            return line.Success ? (int)double.Parse(line.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        }

        public async ValueTask DisposeAsync()
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}
