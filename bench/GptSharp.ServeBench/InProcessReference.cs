using System.Diagnostics;
using System.Text.Json.Nodes;
using GptSharp.Inference;

namespace GptSharp.ServeBench;

/// <summary>
/// The same work without HTTP, on the served model itself (before any load, so its scheduler is idle), greedy:
/// one stream with <see cref="TextGenerator.Generate"/>; 8 sequences decoded together from one-token prompts (the
/// decoding benchmark's batch-8 figure, with this run's max_tokens); and 8 requests of the driver's own prompts through
/// a <see cref="BatchDecoder"/> of its own (what the server runs, prefill included, without HTTP).
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
        var oneToken = Enumerable.Range(0, 8).Select(i => (IReadOnlyList<int>)[prompt(i)[0]]).ToList();
        var batch = Stopwatch.StartNew();
        int tokens = generator.GenerateBatch(oneToken, all).Sum(r => r.Ids.Length);
        double batchSeconds = batch.Elapsed.TotalSeconds;

        int servedTokens = 0;
        Stopwatch served;
        var steps = new List<double>();
        var oneSteps = new List<double>();
        using (var decoder = new BatchDecoder(generator, new BatchDecoderOptions { MaxBatch = 8, PrefixCacheEntries = 0 }))
        {
            // Warm-up: a fresh decoder's first passes grow its KV slots and pick kernels for the new shapes.
            foreach (int i in Enumerable.Range(0, 8)) decoder.Submit(prompt(200 + i), all with { MaxNewTokens = 4, ValidUtf8 = false });
            while (decoder.Step()) { }
            served = Stopwatch.StartNew();
            var requests = Enumerable.Range(0, 8).Select(i => decoder.Submit(prompt(100 + i), all with { ValidUtf8 = false })).ToList();
            // Each step timed: the prompts go in over the first steps, then every step decodes all 8 (the median one).
            for (var step = Stopwatch.StartNew(); decoder.Step(); step.Restart()) steps.Add(step.Elapsed.TotalSeconds);
            foreach (var r in requests)
                servedTokens += r.ReadAllAsync().ToBlockingEnumerable().Sum(d => d.Ids.Count);
            // One request alone through the same decoder: the served single stream without HTTP.
            var one = decoder.Submit(prompt(300), all with { ValidUtf8 = false });
            for (var step = Stopwatch.StartNew(); decoder.Step(); step.Restart()) oneSteps.Add(step.Elapsed.TotalSeconds);
            _ = one.ReadAllAsync().ToBlockingEnumerable().Count();
        }
        double servedSeconds = served.Elapsed.TotalSeconds;
        return new JsonObject
        {
            ["single_stream_ttft_ms_p50"] = Percentiles.Ms(ttft, 50),
            ["single_stream_decode_tokens_per_s_p50"] = Math.Round(Percentiles.Of(decode, 50)!.Value, 1),
            ["batch8_decode_tokens_per_s"] = Math.Round(tokens / batchSeconds, 1),
            ["batch8_decode_note"] = $"GenerateBatch: 8 one-token prompts, {o.MaxTokens} new tokens each (the decoding benchmark's batch-8 shape)",
            ["batch_decoder_8_requests_tokens_per_s"] = Math.Round(servedTokens / servedSeconds, 1),
            ["batch_decoder_8_decode_tokens_per_s"] = Math.Round(8 / Percentiles.Of(steps, 50)!.Value, 1),
            ["batch_decoder_8_decode_note"] = $"the same BatchDecoder run: 8 tokens per median step (decoding only, {o.PromptTokens}-{o.PromptTokens + o.MaxTokens} cached positions each)",
            ["batch_decoder_1_decode_tokens_per_s"] = Math.Round(1 / Percentiles.Of(oneSteps, 50)!.Value, 1),
            ["batch_decoder_1_decode_note"] = "one request alone through a BatchDecoder: 1 token per median step",
            ["batch_decoder_8_requests_note"] = $"BatchDecoder: 8 requests of {o.PromptTokens}-token prompts, {o.MaxTokens} new tokens each, prefill included (the served level 8 without HTTP)",
        };
    }
}
