using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace GptSharp.ServeBench;

/// <summary>
/// Issue 12's reliability soak: many requests at high concurrency, a tenth malformed (bad JSON, invalid fields), a
/// tenth disconnecting after the first event, one in twenty oversized (a body over the server's limit). Checks that
/// the server stays up, every valid request streams to [DONE], the rejects get 400 and 413, active sequences, queue
/// and KV positions return to zero, and resident memory returns to within 10 % of its level after a warm-up.
/// (tests/GptSharp.Tests/Server/SoakTests.cs is the scaled-down version the test suite runs.)
/// </summary>
static class Soak
{
    enum Kind { Valid, Malformed, Disconnect, Oversized }

    static Kind KindOf(int i) => (i % 10) switch { 3 => Kind.Malformed, 7 => Kind.Disconnect, 5 when i % 20 == 5 => Kind.Oversized, _ => Kind.Valid };

    public static async Task<JsonObject> RunAsync(HttpClient http, string url, ServeBenchOptions o, Func<int, IReadOnlyList<int>> prompt, int? serverPid)
    {
        // Warm level: one full round of valid requests at the soak's concurrency, then memory settles.
        await Task.WhenAll(Enumerable.Range(0, o.SoakConcurrency).Select(i => StreamedRequest.RunAsync(http, StreamedRequest.Body(o.ModelId, prompt(i), o.MaxTokens, o.Temperature))));
        await IdleAsync(http, o.ModelId);
        double? warmRss = SettledRss(serverPid);

        int next = -1;
        var outcomes = new Dictionary<Kind, (int Ok, int Failed)>();
        var failures = new List<string>();
        var clock = Stopwatch.StartNew();
        async Task Client()
        {
            for (int i; (i = Interlocked.Increment(ref next)) < o.SoakRequests;)
            {
                var kind = KindOf(i);
                string? failure;
                try { failure = await OneAsync(http, url, o, kind, prompt(i)); }
                catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException) { failure = e.Message; }
                lock (outcomes)
                {
                    var (ok, failed) = outcomes.GetValueOrDefault(kind);
                    outcomes[kind] = failure is null ? (ok + 1, failed) : (ok, failed + 1);
                    if (failure is not null && failures.Count < 10) failures.Add($"{i} {kind}: {failure}");
                }
            }
        }
        await Task.WhenAll(Enumerable.Range(0, o.SoakConcurrency).Select(_ => Task.Run(Client)));
        double seconds = clock.Elapsed.TotalSeconds;
        var idle = Stopwatch.StartNew();
        string metrics = await IdleAsync(http, o.ModelId);
        double idleSeconds = idle.Elapsed.TotalSeconds;
        double? finalRss = SettledRss(serverPid);
        bool healthy = (await http.GetAsync("/health")).StatusCode == HttpStatusCode.OK;
        double Gauge(string name) => Metric(metrics, name, o.ModelId) ?? double.NaN;
        var report = new JsonObject
        {
            ["requests"] = o.SoakRequests,
            ["concurrency"] = o.SoakConcurrency,
            ["seconds"] = Math.Round(seconds, 1),
            ["outcomes"] = new JsonObject(outcomes.OrderBy(k => k.Key).Select(k => KeyValuePair.Create(k.Key.ToString().ToLowerInvariant(), (JsonNode?)new JsonObject { ["as_expected"] = k.Value.Ok, ["not"] = k.Value.Failed }))),
            ["failures"] = new JsonArray([.. failures.Select(f => (JsonNode)f)]),
            ["healthy_after"] = healthy,
            ["seconds_until_idle"] = Math.Round(idleSeconds, 2),
            ["active_sequences_after"] = Gauge("gptsharp_active_sequences"),
            ["queue_length_after"] = Gauge("gptsharp_queue_length"),
            ["kv_positions_after"] = Gauge("gptsharp_kv_positions"),
            ["kv_cached_prefixes_after"] = Gauge("gptsharp_kv_cached_prefixes"),
            ["rss_warm_mib"] = warmRss,
            ["rss_after_mib"] = finalRss,
            ["rss_ratio"] = warmRss is { } w && finalRss is { } f ? Math.Round(f / w, 3) : null,
        };
        report["passed"] = healthy && failures.Count == 0 && Gauge("gptsharp_active_sequences") == 0 && Gauge("gptsharp_queue_length") == 0
            && Gauge("gptsharp_kv_positions") == 0 && (report["rss_ratio"] is null || (double)report["rss_ratio"]! <= 1.10);
        return report;
    }

    /// <summary>Null when the request went as its kind should, else what went wrong.</summary>
    static async Task<string?> OneAsync(HttpClient http, string url, ServeBenchOptions o, Kind kind, IReadOnlyList<int> prompt)
    {
        string body = StreamedRequest.Body(o.ModelId, prompt, o.MaxTokens, o.Temperature);
        switch (kind)
        {
            case Kind.Valid:
                var r = await StreamedRequest.RunAsync(http, body);
                return r.Ok ? null : r.Error;
            case Kind.Malformed:
                string bad = (prompt[0] % 3) switch
                {
                    0 => body[..^5], // cut short: not JSON
                    1 => body.Replace("\"temperature\":0", "\"temperature\":\"hot\""),
                    _ => body.Replace($"\"max_tokens\":{o.MaxTokens}", "\"max_tokens\":-5"),
                };
                var m = await http.PostAsync("/v1/completions", new StringContent(bad, Encoding.UTF8, "application/json"));
                return m.StatusCode == HttpStatusCode.BadRequest ? null : $"HTTP {(int)m.StatusCode} for a malformed request";
            case Kind.Oversized:
                // A connection of its own: the server answers 413 before reading the body, then closes the connection.
                using (var once = new HttpClient { BaseAddress = new Uri(url) })
                {
                    string big = $$"""{"model": "{{o.ModelId}}", "prompt": "{{new string('a', 1100 * 1024)}}"}""";
                    var b = await once.PostAsync("/v1/completions", new StringContent(big, Encoding.UTF8, "application/json"));
                    return b.StatusCode == HttpStatusCode.RequestEntityTooLarge ? null : $"HTTP {(int)b.StatusCode} for an oversized body";
                }
            default:
                using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") })
                using (var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead))
                {
                    if (response.StatusCode != HttpStatusCode.OK) return $"HTTP {(int)response.StatusCode} before disconnecting";
                    using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
                    string? line = await reader.ReadLineAsync();
                    return line?.StartsWith("data: ", StringComparison.Ordinal) == true ? null : "no first event";
                } // disposing the unread response closes the connection (the client's handler does not drain)
        }
    }

    /// <summary>/metrics once nothing is active or queued and no KV position is held (60 s at most).</summary>
    static async Task<string> IdleAsync(HttpClient http, string model)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            string metrics = await http.GetStringAsync("/metrics");
            bool idle = Metric(metrics, "gptsharp_active_sequences", model) == 0 && Metric(metrics, "gptsharp_queue_length", model) == 0
                && Metric(metrics, "gptsharp_kv_positions", model) is null or 0;
            if (idle || deadline.Elapsed > TimeSpan.FromSeconds(60)) return metrics;
            await Task.Delay(100);
        }
    }

    static double? SettledRss(int? pid)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return ProcessMemory.MiB(pid, "VmRSS");
    }

    public static double? Metric(string metrics, string name, string model) =>
        Regex.Match(metrics, $"^{Regex.Escape(name)}{{model=\"{Regex.Escape(model)}\"}} (\\S+)$", RegexOptions.Multiline) is { Success: true } m
            ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : null;
}
