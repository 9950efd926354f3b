using GptSharp.Models;
using GptSharp.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Inference;

/// <summary>
/// Deterministic beam search, after Hugging Face's: each step every beam's log-probabilities (after the logits
/// processors) are added to its score, the 2·num_beams best continuations are taken, those ending in end-of-text
/// become finished hypotheses and the best num_beams others go on. Hypotheses are ranked by
/// sum of log-probabilities / (new tokens, end-of-text included)^length_penalty.
/// A continuation whose text completes a stop sequence finishes too, like end-of-text: it is scored with the token
/// that completed the stop sequence, and its result is cut just before the stop sequence (as in greedy decoding).
/// The logits processors (repetition penalty, no-repeat n-grams, min_new_tokens) see each beam's own tokens.
/// The beams run as one batch with one KV cache whose batch dimension is the beams; when beams are reordered the
/// cache rows follow them (<see cref="KvCache.Reorder"/>).
/// </summary>
static class BeamSearch
{
    public static IReadOnlyList<GenerationResult> Run(Gpt model, Device device, int[] prompt, GenerationOptions o,
        IReadOnlySet<int> endIds, ITokenizer? tokenizer, CancellationToken ct)
    {
        var config = model.Config;
        int beams = o.NumBeams, vocab = config.VocabSize;
        bool wasTraining = model.training;
        model.eval();
        var running = Enumerable.Range(0, beams).Select(_ => new List<int>(prompt)).ToList();
        // Only the first beam starts live, so the first step does not pick the same token once per beam.
        var scores = Enumerable.Range(0, beams).Select(b => b == 0 ? 0.0 : double.NegativeInfinity).ToArray();
        var finished = new List<(int[] Ids, string? Text, double Score, FinishReason Reason)>();
        // One stop-sequence watch per beam, copied when a beam branches.
        var scanners = tokenizer is not null && o.StopSequences.Count > 0
            ? Enumerable.Range(0, beams).Select(_ => new StopSequences(o.StopSequences, tokenizer)).ToList()
            : null;
        // The UTF-8 state of each beam's text, carried along when beams branch.
        var guard = TextGenerator.Utf8GuardFor(o, tokenizer, vocab);
        var utf8 = Enumerable.Repeat(guard?.StateAfter(prompt) ?? Utf8Guard.Complete, beams).ToList();
        double Ranked(double sum, int length) => sum / Math.Pow(Math.Max(length, 1), o.LengthPenalty);
        using var cache = o.UseCache ? new KvCache(config.NLayer, Math.Min(config.BlockSize, prompt.Length + o.MaxNewTokens)) : null;
        var end = FinishReason.Length;
        bool done = false;
        try
        {
            for (int step = 0; !done; step++)
            {
                if (step == o.MaxNewTokens) break;
                if (running[0].Count > config.BlockSize) { end = FinishReason.ContextFull; break; }
                ct.ThrowIfCancellationRequested();
                using var noGrad = no_grad();
                using var scope = NewDisposeScope();

                int seen = cache?.Length ?? 0, fresh = running[0].Count - seen;
                long[] ids = running.SelectMany(r => r.Skip(seen).Select(t => (long)t)).ToArray();
                var logits = model.Forward(tensor(ids, [beams, fresh], ScalarType.Int64, device), cache, lastPositionOnly: true);
                var logProbs = logits[.., -1].to(ScalarType.Float32).log_softmax(-1);
                var processed = stack(Enumerable.Range(0, beams)
                    .Select(b => LogitsProcessing.Apply(logProbs[b], running[b], step, o, endIds))
                    .Select((row, b) => guard?.Apply(row, utf8[b]) ?? row).ToArray());
                var total = processed + tensor(scores.Select(x => (float)x).ToArray(), ScalarType.Float32, device).unsqueeze(1);
                var (topValues, topIndices) = total.flatten().topk(Math.Min(2 * beams, beams * vocab));
                // Float32 sums are enough to rank; scores are carried in double from here.
                float[] values = topValues.cpu().data<float>().ToArray();
                long[] indices = topIndices.cpu().data<long>().ToArray();

                var sources = new List<int>();
                var tokens = new List<int>();
                var nextScores = new List<double>();
                var nextScanners = new List<StopSequences>();
                var nextUtf8 = new List<int>();
                for (int rank = 0; rank < values.Length && sources.Count < beams; rank++)
                {
                    if (float.IsNegativeInfinity(values[rank])) break;
                    int source = (int)(indices[rank] / vocab), token = (int)(indices[rank] % vocab);
                    if (o.StopAtEndOfText && endIds.Contains(token))
                    {
                        // As in Hugging Face, only an end-of-text among the num_beams best finishes a hypothesis.
                        if (rank < beams) finished.Add((running[source].Skip(prompt.Length).ToArray(), null, Ranked(values[rank], step + 1), FinishReason.EndOfText));
                        continue;
                    }
                    if (scanners is not null)
                    {
                        var scanner = scanners[source].Clone();
                        scanner.Push(token);
                        if (scanner.Stopped)
                        {
                            // Like end-of-text: a finished hypothesis when among the num_beams best, never a running beam.
                            if (rank < beams) finished.Add(Stopped(tokenizer!, [.. running[source].Skip(prompt.Length), token], scanner.Cut, Ranked(values[rank], step + 1)));
                            continue;
                        }
                        nextScanners.Add(scanner);
                    }
                    sources.Add(source);
                    tokens.Add(token);
                    nextScores.Add(values[rank]);
                    nextUtf8.Add(guard?.Next(utf8[source], token) ?? Utf8Guard.Complete);
                }
                if (sources.Count == 0) { done = true; running.Clear(); break; } // every continuation banned or finished
                while (sources.Count < beams)
                {
                    sources.Add(sources[0]); tokens.Add(tokens[0]); nextScores.Add(double.NegativeInfinity); nextUtf8.Add(nextUtf8[0]);
                    if (scanners is not null) nextScanners.Add(nextScanners[0].Clone());
                }

                if (cache is not null && !sources.Select((s, i) => s == i).All(same => same))
                    cache.Reorder(tensor(sources.Select(s => (long)s).ToArray(), ScalarType.Int64, device));
                running = sources.Select((s, i) => new List<int>(running[s]) { tokens[i] }).ToList();
                scores = [.. nextScores];
                utf8 = nextUtf8;
                if (scanners is not null) scanners = nextScanners;

                if (finished.Count >= beams)
                {
                    // Done when enough hypotheses are finished and (heuristically, as Hugging Face's default) no running
                    // beam, ranked at its current length, beats the worst of the best num_beams.
                    double worst = finished.Select(f => f.Score).OrderDescending().ElementAt(beams - 1);
                    done = o.EarlyStopping || Ranked(scores.Max(), step + 1) <= worst;
                }
            }
            if (!done)
                for (int b = 0; b < running.Count; b++)
                    if (!double.IsNegativeInfinity(scores[b]))
                        finished.Add((running[b].Skip(prompt.Length).ToArray(), null, Ranked(scores[b], running[b].Count - prompt.Length), end));
        }
        finally
        {
            if (wasTraining) model.train();
        }
        return finished
            .OrderByDescending(f => f.Score)
            .Take(o.NumReturnSequences)
            .Select(f => new GenerationResult(f.Ids, f.Text ?? tokenizer?.DecodeText(f.Ids), f.Reason, f.Score))
            .ToArray();
    }

    /// <summary>A hypothesis ended by a stop sequence starting at character <paramref name="cut"/> of its text: text and ids cut before it.</summary>
    static (int[] Ids, string? Text, double Score, FinishReason Reason) Stopped(ITokenizer tokenizer, int[] ids, int cut, double score)
    {
        var (kept, text) = StopSequences.CutBefore(tokenizer, ids, cut);
        return (kept, text, score, FinishReason.StopSequence);
    }
}
