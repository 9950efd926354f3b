using System.Diagnostics;
using System.Text.Json.Nodes;
using GptSharp.Inference;

namespace GptSharp.ServeBench;

/// <summary>
/// The same work without HTTP, on the served model itself (before any load, so its scheduler is idle): one stream with
/// <see cref="TextGenerator.Generate"/>, and 8 streams together with <see cref="TextGenerator.GenerateBatch"/>, each
/// with the driver's prompt length and max_tokens, greedy.
/// </summary>
static class InProcessReference
{
    public static JsonObject Measure(TextGenerator generator, ServeBenchOptions o, Func<int, IReadOnlyList<int>> prompt)
    {
        var first = new GenerationOptions { DoSample = false, MaxNewTokens = 1, StopAtEndOfText = false };
        var all = first with { MaxNewTokens = o.MaxTokens };
        generator.Generate(prompt(0), all); // warm-up
        var ttft = new List<double>();
        var decode = new List<double>();
        for (int rep = 0; rep < 3; rep++)
        {
            var clock = Stopwatch.StartNew();
            generator.Generate(prompt(rep), first);
            double prefill = clock.Elapsed.TotalSeconds;
            clock.Restart();
            int n = generator.Generate(prompt(rep), all).Length;
            // Decoding alone: the whole run less its first token (the prefill just timed).
            decode.Add((n - 1) / Math.Max(1e-9, clock.Elapsed.TotalSeconds - prefill));
            ttft.Add(prefill);
        }
        var prompts = Enumerable.Range(0, 8).Select(prompt).ToList();
        var batch = Stopwatch.StartNew();
        int tokens = generator.GenerateBatch(prompts, all).Sum(r => r.Ids.Length);
        double batchSeconds = batch.Elapsed.TotalSeconds;
        return new JsonObject
        {
            ["single_stream_ttft_ms_p50"] = Percentiles.Ms(ttft, 50),
            ["single_stream_decode_tokens_per_s_p50"] = Math.Round(Percentiles.Of(decode, 50)!.Value, 1),
            ["batch8_aggregate_tokens_per_s"] = Math.Round(tokens / batchSeconds, 1),
            ["batch8_note"] = $"GenerateBatch: 8 prompts of {o.PromptTokens} tokens, {o.MaxTokens} new tokens each, prefill included (as the served level 8)",
        };
    }
}
