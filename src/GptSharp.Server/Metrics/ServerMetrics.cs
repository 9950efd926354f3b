using GptSharp.Server.Hosting;
using Prometheus;

namespace GptSharp.Server.Metrics;

/// <summary>
/// The server's Prometheus metrics, in a registry of its own (so two servers in one process, as in tests, never share
/// counts): requests by route and status, tokens, queue length, active sequences and KV cache held per model, time to first token and
/// inter-token latency.
/// </summary>
public sealed class ServerMetrics
{
    public ServerMetrics(ModelRegistry models)
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        var f = Prometheus.Metrics.WithCustomRegistry(Registry);
        Requests = f.CreateCounter("gptsharp_requests_total", "HTTP requests by route and status code.", "route", "status");
        PromptTokens = f.CreateCounter("gptsharp_prompt_tokens_total", "Prompt tokens of completed requests.", "model");
        CompletionTokens = f.CreateCounter("gptsharp_completion_tokens_total", "Tokens generated.", "model");
        var queue = f.CreateGauge("gptsharp_queue_length", "Sequences waiting for their model.", "model");
        var active = f.CreateGauge("gptsharp_active_sequences", "Sequences being decoded.", "model");
        var kv = f.CreateGauge("gptsharp_kv_positions", "KV cache positions held by the sequences being decoded.", "model");
        var prefixes = f.CreateGauge("gptsharp_kv_cached_prefixes", "Finished conversations whose KV cache is kept for their next turn.", "model");
        var prefixPositions = f.CreateGauge("gptsharp_kv_cached_prefix_positions", "KV cache positions held by the kept conversations.", "model");
        TimeToFirstToken = f.CreateHistogram("gptsharp_time_to_first_token_seconds", "From admission to the first generated token.",
            new HistogramConfiguration { LabelNames = ["model"], Buckets = Histogram.ExponentialBuckets(0.005, 2, 14) });
        InterTokenLatency = f.CreateHistogram("gptsharp_inter_token_latency_seconds", "Between consecutive generated tokens of a sequence.",
            new HistogramConfiguration { LabelNames = ["model"], Buckets = Histogram.ExponentialBuckets(0.001, 2, 14) });
        // Read from the schedulers when scraped, so the gauges are never stale.
        Registry.AddBeforeCollectCallback(() =>
        {
            foreach (var m in models.Models)
            {
                queue.WithLabels(m.Id).Set(m.Scheduler.QueueLength);
                active.WithLabels(m.Id).Set(m.Scheduler.ActiveSequences);
                kv.WithLabels(m.Id).Set(m.Scheduler.KvPositions);
                var (entries, positions) = m.Scheduler.CachedPrefixes;
                prefixes.WithLabels(m.Id).Set(entries);
                prefixPositions.WithLabels(m.Id).Set(positions);
            }
        });
    }

    public CollectorRegistry Registry { get; }
    public Counter Requests { get; }
    public Counter PromptTokens { get; }
    public Counter CompletionTokens { get; }
    public Histogram TimeToFirstToken { get; }
    public Histogram InterTokenLatency { get; }
}
