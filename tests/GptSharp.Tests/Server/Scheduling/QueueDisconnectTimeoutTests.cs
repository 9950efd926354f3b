using GptSharp.Inference;
using GptSharp.Server.Options;
using GptSharp.Server.Scheduling;
using Microsoft.Extensions.DependencyInjection;

namespace GptSharp.Tests.Server.Scheduling;

/// <summary>What the routes do around the scheduler: a full queue (429), a client that leaves, a request that takes too long.</summary>
[Collection(nameof(ServerCollection))]
public class QueueDisconnectTimeoutTests(ServerModels models)
{
    const string Chat = """{"model": "la", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 3, "stream": STREAM}""";

    async Task<(TestHost Host, GateScheduler Gate)> Start(int capacity, ServerOptions? options = null)
    {
        GateScheduler? gate = null;
        var host = await TestHost.StartAsync(options ?? models.Options() with { Models = [new(models.La, "la")] },
            b => b.Services.AddSingleton<SchedulerFactory>((id, _) => gate = new GateScheduler(id, capacity)));
        return (host, gate!);
    }

    [Fact]
    public async Task BeyondTheQueueIs429WithRetryAfter()
    {
        var (host, gate) = await Start(capacity: 1);
        await using var _ = host;
        var waiting = host.Client().PostAsync("/v1/chat/completions", Chat.Replace("STREAM", "false"));
        var first = await gate.AdmittedAsync();
        var refused = await host.Client().PostAsync("/v1/chat/completions", Chat.Replace("STREAM", "true"));
        await refused.ErrorAsync(429, "queue_full");
        Assert.Equal(TimeSpan.FromSeconds(1), refused.Headers.RetryAfter?.Delta);
        // The first one is answered once its turn comes.
        first.Write(new TextDelta(" done", [1], 4) { FinishReason = FinishReason.EndOfText });
        first.Complete();
        var body = await (await waiting).BodyAsync();
        Assert.Equal(" done", (string?)body["choices"]![0]!["message"]!["content"]);
        Assert.Equal("stop", (string?)body["choices"]![0]!["finish_reason"]);
    }

    [Fact]
    public async Task AClientThatLeavesCancelsItsSequence()
    {
        var (host, gate) = await Start(capacity: 4);
        await using var _ = host;
        using var leave = new CancellationTokenSource();
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(Chat.Replace("STREAM", "true")) };
        var sending = host.Client().SendAsync(request, HttpCompletionOption.ResponseHeadersRead, leave.Token);
        var sequence = await gate.AdmittedAsync();
        sequence.Write(new TextDelta(" la", [1], 4));
        var response = await sending;
        var stream = await response.Content.ReadAsStreamAsync(leave.Token);
        var buffer = new byte[256];
        Assert.True(await stream.ReadAsync(buffer, leave.Token) > 0);
        Assert.False(sequence.Stopping.IsCancellationRequested);
        // Leaving: the connection is dropped.
        leave.Cancel();
        response.Dispose();
        for (int i = 0; i < 300 && !sequence.Stopping.IsCancellationRequested; i++) await Task.Delay(10);
        bool stopped = sequence.Stopping.IsCancellationRequested;
        sequence.Complete(); // a server that failed this test must still stop
        Assert.True(stopped, "the sequence was not stopped when the client left");
    }

    [Fact]
    public async Task AFailureMidStreamIsAnErrorEventAndBeforeItA500()
    {
        var (host, gate) = await Start(capacity: 4);
        await using var _ = host;
        var streamed = host.Client().PostAsync("/v1/chat/completions", Chat.Replace("STREAM", "true"));
        var sequence = await gate.AdmittedAsync();
        sequence.Write(new TextDelta(" la", [1], 4));
        sequence.Complete(new InvalidOperationException("boom"));
        var events = Sse.Json(await (await streamed).Content.ReadAsStringAsync());
        var error = events.Single(e => e["error"] is not null)["error"]!;
        Assert.Equal("server_error", (string?)error["type"]);
        Assert.DoesNotContain("boom", error.ToJsonString()); // internals stay inside

        var whole = host.Client().PostAsync("/v1/chat/completions", Chat.Replace("STREAM", "false"));
        (await gate.AdmittedAsync(1)).Complete(new InvalidOperationException("boom"));
        var body = await (await whole).ErrorAsync(500);
        Assert.DoesNotContain("boom", body.ToJsonString());
    }

    [Fact]
    public async Task ARequestThatTakesTooLongIs504OrAnErrorEvent()
    {
        var (host, _) = await Start(capacity: 4, models.Options() with { Models = [new(models.La, "la")], RequestTimeout = TimeSpan.FromMilliseconds(300) });
        await using var __ = host;
        await (await host.Client().PostAsync("/v1/chat/completions", Chat.Replace("STREAM", "false"))).ErrorAsync(504, "timeout");

        var streamed = await host.Client().PostAsync("/v1/chat/completions", Chat.Replace("STREAM", "true"));
        Assert.Equal(200, (int)streamed.StatusCode);
        var events = Sse.Json(await streamed.Content.ReadAsStringAsync());
        Assert.Equal("timeout", (string?)events.Single()["error"]!["code"]);
    }
}
