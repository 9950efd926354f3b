using System.Diagnostics;
using System.Text.Json.Nodes;

namespace GptSharp.ServeBench;

/// <summary>One concurrency level: <c>concurrency</c> clients, each sending its next request as soon as the last one ended.</summary>
static class LoadLevel
{
    public static async Task<(JsonObject Report, List<StreamedRequest> Results)> RunAsync(HttpClient http, ServeBenchOptions o, int concurrency,
        Func<int, IReadOnlyList<int>> prompt, int? serverPid)
    {
        int total = concurrency * o.Rounds, next = -1;
        var results = new List<StreamedRequest>();
        var opening = new HashSet<StreamedRequest>(ReferenceEqualityComparer.Instance);
        var clock = Stopwatch.StartNew();
        async Task Client()
        {
            for (int i; (i = Interlocked.Increment(ref next)) < total;)
            {
                var r = await StreamedRequest.RunAsync(http, StreamedRequest.Body(o.ModelId, prompt(i), o.MaxTokens, o.Temperature));
                lock (results)
                {
                    results.Add(r);
                    if (i < concurrency) opening.Add(r); // every client's first request: all sent at once
                }
            }
        }
        await Task.WhenAll(Enumerable.Range(0, concurrency).Select(_ => Task.Run(Client)));
        double wall = clock.Elapsed.TotalSeconds;
        var ok = results.Where(r => r.Ok).ToList();
        int tokens = ok.Sum(r => r.CompletionTokens);
        var report = new JsonObject
        {
            ["concurrency"] = concurrency,
            ["requests"] = total,
            ["ok"] = ok.Count,
            ["errors"] = new JsonArray([.. results.Where(r => !r.Ok).Select(r => (JsonNode)r.Error!).Distinct().Take(3)]),
            ["seconds"] = Math.Round(wall, 2),
            ["completion_tokens"] = tokens,
            ["aggregate_tokens_per_s"] = Math.Round(tokens / wall, 1),
            ["requests_per_s"] = Math.Round(ok.Count / wall, 2),
            ["ttft_ms"] = new JsonObject { ["p50"] = Percentiles.Ms(ok.Where(r => r.FirstTokenSeconds is not null).Select(r => r.FirstTokenSeconds!.Value), 50), ["p95"] = Percentiles.Ms(ok.Where(r => r.FirstTokenSeconds is not null).Select(r => r.FirstTokenSeconds!.Value), 95) },
            // The opening burst (every client's first request at the same moment) waits for each other's prompts;
            // later requests arrive as earlier ones end, as under steady load.
            ["ttft_opening_ms"] = Ttft(ok.Where(opening.Contains)),
            ["ttft_after_opening_ms"] = Ttft(ok.Where(r => !opening.Contains(r))),
            ["itl_ms"] = new JsonObject
            {
                ["p50"] = Percentiles.Ms(ok.SelectMany(r => r.TokenGaps), 50), ["p95"] = Percentiles.Ms(ok.SelectMany(r => r.TokenGaps), 95),
                ["mean_decoding"] = DecodingGapMs(ok.SelectMany(r => r.TokenGaps).ToList()),
            },
            ["per_stream_decode_tokens_per_s_p50"] = Percentiles.Of(ok.Select(r => r.DecodeTokensPerSecond ?? double.NaN).Where(double.IsFinite), 50) is { } d ? Math.Round(d, 1) : null,
            ["server_rss_mib"] = ProcessMemory.MiB(serverPid, "VmRSS"),
            ["server_peak_rss_mib"] = ProcessMemory.MiB(serverPid, "VmHWM"),
        };
        return (report, results);
    }

    /// <summary>
    /// The mean gap between tokens while the streams decode: gaps over 3× the median (a pass that prefilled another
    /// request's prompt) left out. A mean, not the median: a client sees each token when its thread next runs, which on a
    /// kernel without preemption (this machine's) is the next 4 ms tick, so single gaps come in multiples of 4 ms.
    /// </summary>
    static double? DecodingGapMs(List<double> gaps)
    {
        if (Percentiles.Of(gaps, 50) is not { } median) return null;
        var decoding = gaps.Where(g => g <= 3 * median).ToList();
        return Math.Round(decoding.Average() * 1000, 2);
    }

    static JsonObject Ttft(IEnumerable<StreamedRequest> requests)
    {
        var seconds = requests.Where(r => r.FirstTokenSeconds is not null).Select(r => r.FirstTokenSeconds!.Value).ToList();
        return new JsonObject { ["n"] = seconds.Count, ["p50"] = Percentiles.Ms(seconds, 50), ["p95"] = Percentiles.Ms(seconds, 95) };
    }
}
