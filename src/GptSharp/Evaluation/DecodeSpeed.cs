using System.Diagnostics;
using GptSharp.Inference;
using GptSharp.Models;

namespace GptSharp.Evaluation;

/// <summary>
/// Generation speed measured as the benchmarks do (bench/GptSharp.Bench's DecodeBenchmark, shaped like llama-bench):
/// greedy decoding with the KV cache from a one-token context, one sequence (tg128) and eight together (one batch),
/// and time to first token as the time to read a prompt and choose one token. Each figure is the median of timed
/// runs after a warm-up, which pays for allocator growth and kernel selection.
/// </summary>
/// <param name="TokensPerSecond">One sequence: new tokens per second.</param>
/// <param name="Batch8TokensPerSecond">Eight sequences decoded together: new tokens per second in all.</param>
/// <param name="TimeToFirstTokenSeconds">Prefill of <paramref name="PromptTokens"/> tokens plus the first token.</param>
public sealed record DecodeSpeed(double TokensPerSecond, double Batch8TokensPerSecond, double TimeToFirstTokenSeconds, int DecodeTokens, int PromptTokens)
{
    public const int Batch = 8;

    /// <summary>
    /// Times <paramref name="model"/>. <paramref name="prompt"/> supplies the time-to-first-token prompt (its first
    /// tokens, repeated when too short) and the one-token starts of the decoding runs; lengths are capped by the context.
    /// </summary>
    public static DecodeSpeed Measure(Gpt model, IReadOnlyList<int> prompt, int decodeTokens, int promptTokens, int repetitions, CancellationToken ct = default)
    {
        if (prompt.Count == 0) throw new GptSharpException("decode speed needs at least one prompt token");
        int context = model.Config.BlockSize;
        decodeTokens = Math.Min(decodeTokens, context - 1);
        promptTokens = Math.Min(promptTokens, context - 1);
        var longPrompt = Enumerable.Range(0, promptTokens).Select(i => prompt[i % prompt.Count]).ToArray();
        var generator = new TextGenerator(model);
        // Every run makes exactly its tokens: no end token stops it early, as in tg128.
        var decode = new GenerationOptions { DoSample = false, MaxNewTokens = decodeTokens, StopAtEndOfText = false, ValidUtf8 = false };
        var firstToken = decode with { MaxNewTokens = 1 };
        var batchPrompts = Enumerable.Range(0, Batch).Select(i => (IReadOnlyList<int>)[prompt[i % prompt.Count]]).ToArray();

        generator.Generate(longPrompt, firstToken, ct);
        generator.Generate([prompt[0]], decode with { MaxNewTokens = Math.Min(decodeTokens, 32) }, ct);
        generator.GenerateBatch(batchPrompts, decode with { MaxNewTokens = Math.Min(decodeTokens, 8) }, ct);

        var ttft = new List<double>();
        var single = new List<double>();
        var batch = new List<double>();
        for (int r = 0; r < repetitions; r++)
        {
            ct.ThrowIfCancellationRequested();
            var clock = Stopwatch.StartNew();
            generator.Generate(longPrompt, firstToken, ct);
            ttft.Add(clock.Elapsed.TotalSeconds);

            clock.Restart();
            int n = generator.Generate([prompt[0]], decode, ct).Length;
            single.Add(n / clock.Elapsed.TotalSeconds);

            clock.Restart();
            int all = generator.GenerateBatch(batchPrompts, decode, ct).Sum(g => g.Ids.Length);
            batch.Add(all / clock.Elapsed.TotalSeconds);
        }
        return new DecodeSpeed(Median(single), Median(batch), Median(ttft), decodeTokens, promptTokens);
    }

    static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        int m = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[m] : (sorted[m - 1] + sorted[m]) / 2;
    }
}
