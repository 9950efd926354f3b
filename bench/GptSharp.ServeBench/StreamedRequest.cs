using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace GptSharp.ServeBench;

/// <summary>
/// One streamed /v1/completions request, timed as a client sees it: when each server-sent event carrying text arrives.
/// The usual HTTP load tools time whole responses; time to first token and inter-token latency need the events.
/// </summary>
sealed record StreamedRequest(bool Ok, string? Error, double Seconds, double? FirstTokenSeconds, double[] TokenGaps, int CompletionTokens)
{
    /// <summary>Decoding speed of this stream alone: tokens after the first over the time they took.</summary>
    public double? DecodeTokensPerSecond => TokenGaps.Length > 0 && TokenGaps.Sum() > 0 ? (CompletionTokens - 1) / TokenGaps.Sum() : null;

    public static string Body(string model, IReadOnlyList<int> prompt, int maxTokens, double temperature = 0) => new JsonObject
    {
        ["model"] = model,
        ["prompt"] = new JsonArray([.. prompt.Select(id => (JsonNode)id)]),
        ["max_tokens"] = maxTokens,
        ["temperature"] = temperature,
        ["stream"] = true,
        ["stream_options"] = new JsonObject { ["include_usage"] = true },
    }.ToJsonString();

    public static async Task<StreamedRequest> RunAsync(HttpClient http, string body, CancellationToken ct = default)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            if (!response.IsSuccessStatusCode)
                return new(false, $"HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}", clock.Elapsed.TotalSeconds, null, [], 0);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
            double? first = null, last = null;
            var gaps = new List<double>();
            int tokens = 0;
            bool done = false;
            for (string? line; (line = await reader.ReadLineAsync(ct)) is not null;)
            {
                if (!line.StartsWith("data: ", StringComparison.Ordinal)) continue;
                string data = line["data: ".Length..];
                if (data == "[DONE]") { done = true; break; }
                // A pooled document, not a tree of nodes: the driver shares the server's 2 cores, so what it spends on
                // each event is taken from the server being measured.
                using var doc = JsonDocument.Parse(data);
                var root = doc.RootElement;
                if (root.TryGetProperty("error", out var error)) return new(false, error.GetRawText(), clock.Elapsed.TotalSeconds, first, [.. gaps], tokens);
                if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object) tokens = usage.GetProperty("completion_tokens").GetInt32();
                if (root.TryGetProperty("choices", out var choices) && choices.GetArrayLength() > 0
                    && choices[0].TryGetProperty("text", out var text) && text.GetString() is { Length: > 0 })
                {
                    double now = clock.Elapsed.TotalSeconds;
                    if (last is { } t) gaps.Add(now - t);
                    first ??= now;
                    last = now;
                }
            }
            return done ? new(true, null, clock.Elapsed.TotalSeconds, first, [.. gaps], tokens)
                : new(false, "the stream ended without [DONE]", clock.Elapsed.TotalSeconds, first, [.. gaps], tokens);
        }
        catch (Exception e) when (e is HttpRequestException or IOException or TaskCanceledException)
        {
            return new(false, e.Message, clock.Elapsed.TotalSeconds, null, [], 0);
        }
    }
}
