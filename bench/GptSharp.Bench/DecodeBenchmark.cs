using System.Diagnostics;
using GptSharp.Inference;
using GptSharp.Models;
using GptSharp.Models.Quantized;
using ScalarType = TorchSharp.torch.ScalarType;
using GptSharp.Data;
using GptSharp.Inference.Onnx;

namespace GptSharp.Bench;

/// <summary>
/// Generation speed with <see cref="TextGenerator"/> on GPT-2 124M (random weights, context 1024, batch 1), shaped like
/// llama.cpp's llama-bench (int8 against its q8_0): prompt processing of 256 tokens (pp256) and greedy decoding of 128 tokens (tg128).
/// </summary>
static class DecodeBenchmark
{
    public const int PromptTokens = 256, NewTokens = 128;

    public const int Batch = 8;

    /// <param name="Batch8Seconds">Time for 8 sequences to decode 128 tokens each, together.</param>
    /// <param name="OverheadSeconds">Per-token time of a 12-layer model with almost no arithmetic (width 96, vocab 512):
    /// what each decoding step costs in dispatch alone.</param>
    /// <param name="Continuous8Seconds">The same 8 × 128 tokens as 8 requests of a <see cref="BatchDecoder"/> (continuous batching).</param>
    /// <param name="SecondTurnSeconds">Time to first token of a conversation's second turn (256-token first prompt, 32-token
    /// reply, 24 new tokens), with the first turn's cache reused and without.</param>
    public sealed record Result(string Precision, long Parameters, double[] PrefillSeconds, double[] DecodeSeconds, double[] Batch8Seconds,
        double OverheadSeconds, double? PeakRssMiB, double? RssMiB)
    {
        public double[] Continuous8Seconds { get; init; } = [];
        public double[] SecondTurnCachedSeconds { get; init; } = [];
        public double[] SecondTurnUncachedSeconds { get; init; } = [];
        /// <summary>fp32 only: bandwidth probes (GB/s) each followed at once by a tg128 run (seconds for 128 tokens).</summary>
        public (double ProbeGbPerS, double DecodeSeconds)[] FloorPairs { get; init; } = [];
        /// <summary>The bytes an fp32 token streams: every weight but the position table, of which it reads one row.</summary>
        public long StreamedBytes { get; init; }
    }

    static GptConfig Config => GptPresets.Get("gpt2") with { VocabSize = 50257 };

    /// <summary>The model <see cref="Run"/> decodes with, as a model directory with GPT-2's tokenizer: what GGUF exports for llama.cpp start from.</summary>
    public static void SaveModel(string dir)
    {
        using var model = Gpt.Create(Config, seed: 1337);
        new GptSharp.Checkpoints.ModelDirectory(model, GptSharp.Tokenization.BpeTokenizer.Gpt2()).Save(dir);
    }

    public static Result Run(string precision, int reps, Action<string> log)
    {
        var config = Config;
        using var model = Gpt.Create(config, seed: 1337);
        Configure(model, precision);
        var generator = new TextGenerator(model);
        var prompt = new Random(7).GetItems(Enumerable.Range(0, config.VocabSize).ToArray(), PromptTokens);
        var prefillOnly = new GenerationOptions { DoSample = false, MaxNewTokens = 1, StopAtEndOfText = false };
        var decode = new GenerationOptions { DoSample = false, MaxNewTokens = NewTokens, StopAtEndOfText = false };

        ProcessStats.ResetPeakRss();
        // Warm up both shapes: a first prompt and a first decoding run pay for allocator growth and kernel selection.
        generator.Generate(prompt, prefillOnly);
        generator.Generate(prompt[..1], decode with { MaxNewTokens = 32 });
        // tg128 as llama-bench runs it: from a one-token context; the first (prefill) step is one position too.
        double Tg128Seconds()
        {
            var clock = Stopwatch.StartNew();
            int n = generator.Generate(prompt[..1], decode).Length;
            return clock.Elapsed.TotalSeconds / n * NewTokens;
        }
        var prefill = new List<double>();
        var tokens = new List<double>();
        for (int i = 0; i < reps; i++)
        {
            var clock = Stopwatch.StartNew();
            generator.Generate(prompt, prefillOnly);
            prefill.Add(clock.Elapsed.TotalSeconds);
            tokens.Add(Tg128Seconds());
            log($"decode {precision} rep {i + 1}/{reps}: pp{PromptTokens} {PromptTokens / prefill[^1]:F0} tokens/s, tg{NewTokens} {NewTokens / tokens[^1]:F1} tokens/s");
        }
        // fp32's floor: the bandwidth probed right before each of a few more tg128 runs, since it moves for minutes at a time.
        var floor = new List<(double, double)>();
        long streamed = (model.ParameterCount - (long)config.BlockSize * config.NEmbd) * sizeof(float);
        if (precision is "fp32" or "onnx-fp32" or "ort-fp32")
        {
            using var bandwidth = new BandwidthProbe(streamed, TorchSharp.torch.get_num_threads());
            for (int i = 0; i < reps; i++)
            {
                double gb = bandwidth.Measure(), seconds = Tg128Seconds();
                floor.Add((gb, seconds));
                double floorTokens = gb * 1e9 / streamed;
                log($"decode {precision} floor pair {i + 1}/{reps}: probe {gb:F1} GB/s = floor {floorTokens:F1} tokens/s; tg{NewTokens} {NewTokens / seconds:F1} tokens/s ({NewTokens / seconds / floorTokens:P0})");
            }
        }
        // Aggregate decoding of 8 sequences at once (one batch, one cache).
        var batch = new List<double>();
        var prompts = Enumerable.Range(0, Batch).Select(i => (IReadOnlyList<int>)[prompt[i]]).ToList();
        for (int i = 0; i < reps; i++)
        {
            var clock = Stopwatch.StartNew();
            generator.GenerateBatch(prompts, decode);
            batch.Add(clock.Elapsed.TotalSeconds);
            log($"decode {precision} batch {Batch} rep {i + 1}/{reps}: {Batch * NewTokens / batch[^1]:F1} tokens/s in all");
        }
        // The same work as 8 requests of the continuous-batching decoder (what the server runs): one packed forward pass
        // per step, attention per sequence. Text is not needed here, so neither is the UTF-8 guard.
        var continuous = new List<double>();
        var cached = new List<double>();
        var uncached = new List<double>();
        // The continuous-batching decoder (the server's) runs TorchSharp's packed forward pass whatever the engine.
        if (model.Engine is null)
        {
            using (var decoder = new BatchDecoder(new TextGenerator(model, GptSharp.Tokenization.BpeTokenizer.Gpt2()), new BatchDecoderOptions { MaxBatch = Batch, PrefixCacheEntries = 0 }))
            {
                for (int i = 0; i < reps; i++)
                {
                    var clock = Stopwatch.StartNew();
                    foreach (var p in prompts) decoder.Submit(p, decode with { ValidUtf8 = false });
                    while (decoder.Step()) { }
                    continuous.Add(clock.Elapsed.TotalSeconds);
                    log($"decode {precision} continuous batching, {Batch} requests, rep {i + 1}/{reps}: {Batch * NewTokens / continuous[^1]:F1} tokens/s in all");
                }
            }
            // A conversation's second turn: with the first turn's KV cache kept, only its new tokens are computed.
            var chat = new TextGenerator(model, GptSharp.Tokenization.BpeTokenizer.Gpt2());
            var reply = decode with { MaxNewTokens = 32, ValidUtf8 = false };
            var firstToken = decode with { MaxNewTokens = 1, ValidUtf8 = false };
            foreach (var (entries, times) in new[] { (8, cached), (0, uncached) })
            {
                using var decoder = new BatchDecoder(chat, new BatchDecoderOptions { MaxBatch = 1, PrefixCacheEntries = entries });
                for (int i = 0; i < reps; i++)
                {
                    int[] turn1 = [.. prompt[..(PromptTokens - 1)], i]; // a new conversation each time
                    var first = decoder.Submit(turn1, reply);
                    while (decoder.Step()) { }
                    var answer = new List<int>();
                    while (first.Deltas.TryRead(out var d)) answer.AddRange(d.Ids);
                    int[] turn2 = [.. turn1, .. answer, .. prompt[..24]];
                    var clock = Stopwatch.StartNew();
                    var second = decoder.Submit(turn2, firstToken);
                    while (decoder.Step()) { }
                    times.Add(clock.Elapsed.TotalSeconds);
                }
                log($"decode {precision} second turn ({(entries > 0 ? "cache reused" : "no cache")}): first token in {times.Order().ElementAt(times.Count / 2) * 1000:F0} ms");
            }
        }
        double? peak = ProcessStats.StatusMiB("VmHWM"), rss = ProcessStats.StatusMiB("VmRSS");

        // Per-token overhead: the same depth and number of operations, negligible arithmetic.
        using var thin = Gpt.Create(config with { NEmbd = 96, VocabSize = 512 }, seed: 1);
        Configure(thin, precision);
        var thinGenerator = new TextGenerator(thin);
        thinGenerator.Generate([1], decode with { MaxNewTokens = 8 });
        var probe = Stopwatch.StartNew();
        int made = thinGenerator.Generate([1], decode).Length;
        double overhead = probe.Elapsed.TotalSeconds / made;
        log($"decode {precision}: per-token overhead {overhead * 1000:F2} ms (12 layers, width 96)");
        return new Result(precision, model.ParameterCount, [.. prefill], [.. tokens], [.. batch], overhead, peak, rss) { Continuous8Seconds = [.. continuous], SecondTurnCachedSeconds = [.. cached], SecondTurnUncachedSeconds = [.. uncached], FloorPairs = [.. floor], StreamedBytes = streamed };
    }

    /// <summary>As loading a model directory for the CLI's inference commands sets a model up (<see cref="PrecisionSetup"/>):
    /// the module converted to bf16; int8 layers with bf16 activations, the float weights freed.
    /// <para>onnx-fp32, onnx-bf16, onnx-int8, onnx-int4: the onnx engine (<see cref="OnnxRuntimeEngine"/>) in that precision, as
    /// <c>--engine onnx</c> loads it; ort-fp32, ort-bf16, ort-int8, ort-int4 the same without its row kernels.</para></summary>
    static void Configure(Gpt model, string precision)
    {
        if (OnnxPrecisionOf(precision) is { } onnx) OnnxRuntimeEngine.Attach(model, onnx, rowKernels: !precision.StartsWith("ort-"));
        else PrecisionSetup.Apply(model, InferencePrecisionNames.Parse(precision));
    }

    /// <summary>The onnx engine's precision for onnx-fp32, onnx-bf16, onnx-int8, onnx-int4 (and ort-fp32, ort-bf16, ort-int8, ort-int4: the same
    /// engine with every step in ONNX Runtime, no row kernels); null for the torch engine's precisions.</summary>
    public static OnnxPrecision? OnnxPrecisionOf(string precision) =>
        precision.StartsWith("onnx-") || precision.StartsWith("ort-") ? OnnxPrecisionNames.Parse(precision[(precision.IndexOf('-') + 1)..]) : null;
}
