namespace GptSharp.Tests.Server.Metrics;

/// <summary>GET /metrics: Prometheus text with the server's own series.</summary>
[Collection(nameof(ServerCollection))]
public class MetricsTests(ServerModels models)
{
    [Fact]
    public async Task RequestsTokensQueueAndLatenciesAreExported()
    {
        await using var host = await TestHost.StartAsync(models.Options());
        var http = host.Client();
        Assert.Equal(200, (int)(await http.PostAsync("/v1/chat/completions", """{"model": "la", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 3}""")).StatusCode);
        Assert.Equal(400, (int)(await http.PostAsync("/v1/chat/completions", """{"model": "la"}""")).StatusCode);

        var response = await http.GetAsync("/metrics");
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString());
        string text = await response.Content.ReadAsStringAsync();
        Assert.Contains("gptsharp_requests_total{route=\"/v1/chat/completions\",status=\"200\"} 1", text);
        Assert.Contains("gptsharp_requests_total{route=\"/v1/chat/completions\",status=\"400\"} 1", text);
        Assert.Contains($"gptsharp_prompt_tokens_total{{model=\"la\"}} {ServerModels.PromptTokens("hi")}", text);
        Assert.Contains("gptsharp_completion_tokens_total{model=\"la\"} 3", text);
        Assert.Contains("gptsharp_queue_length{model=\"la\"} 0", text);
        Assert.Contains("gptsharp_active_sequences{model=\"la\"} 0", text);
        Assert.Contains("gptsharp_kv_positions{model=\"la\"} 0", text);
        // The finished conversation is kept for its next turn: every token but the last new one.
        Assert.Contains("gptsharp_kv_cached_prefixes{model=\"la\"} 1", text);
        Assert.Contains($"gptsharp_kv_cached_prefix_positions{{model=\"la\"}} {ServerModels.PromptTokens("hi") + 2}", text);
        Assert.Contains("gptsharp_time_to_first_token_seconds_count{model=\"la\"} 1", text);
        Assert.Contains("gptsharp_inter_token_latency_seconds_count{model=\"la\"} 2", text);
    }
}
