using GptSharp.Inference;
using GptSharp.Models;
using GptSharp.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Tests.Inference;

/// <summary>Repetition penalty, no-repeat n-grams, min_new_tokens, stop sequences, beam search and batched generation.</summary>
public class DecodingTests
{
    static readonly GptConfig Tiny = new() { VocabSize = 97, BlockSize = 32, NLayer = 2, NHead = 4, NEmbd = 32 };
    static readonly int[] Prompt = [5, 17, 3, 42, 8];

    // Larger weights than GPT-2's init give a model with clear preferences (and a habit of repeating itself).
    static Gpt Model(long seed = 3)
    {
        var m = Gpt.Create(Tiny, seed);
        using var _ = no_grad();
        foreach (var p in m.parameters()) p.mul_(20);
        return m;
    }

    static readonly GenerationOptions Greedy = new() { DoSample = false, MaxNewTokens = 20, StopAtEndOfText = false };

    /// <summary>Token i reads "&lt;i&gt;", so text positions map plainly to tokens.</summary>
    sealed class AngleTokenizer(int endOfTextId = 96) : ITokenizer
    {
        public int VocabSize => Tiny.VocabSize;
        public int EndOfTextId => endOfTextId;
        public int[] Encode(string text) => throw new NotSupportedException();
        public string Decode(IEnumerable<int> ids) => string.Concat(ids.Select(i => $"<{i}>"));
    }

    static int Repeats(IReadOnlyList<int> ids) => ids.Count - ids.Distinct().Count();

    [Fact]
    public void RepetitionPenaltyLowersRepeats()
    {
        using var m = Model();
        var g = new TextGenerator(m);
        var plain = g.Generate(Prompt, Greedy with { MaxNewTokens = 25 });
        var penalised = g.Generate(Prompt, Greedy with { MaxNewTokens = 25, RepetitionPenalty = 3 });
        Assert.True(Repeats(plain) > 0, "the tiny model should repeat itself without a penalty");
        Assert.True(Repeats(penalised) < Repeats(plain), $"{Repeats(penalised)} repeats with the penalty, {Repeats(plain)} without");
        Assert.Equal(plain, g.Generate(Prompt, Greedy with { MaxNewTokens = 25, RepetitionPenalty = 1 }));
    }

    [Fact]
    public void RepetitionPenaltyDividesPositiveAndMultipliesNegativeLogits()
    {
        using var logits = tensor(new float[] { 2f, -2f, 1f, -1f });
        using var adjusted = LogitsProcessing.Apply(logits, [0, 1, 1], 0, new GenerationOptions { RepetitionPenalty = 2 }, null);
        Assert.Equal(new float[] { 1f, -4f, 1f, -1f }, adjusted.data<float>().ToArray());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void NoRepeatNgramNeverRepeatsAnNgram(int n)
    {
        using var m = Model();
        var g = new TextGenerator(m);
        var o = Greedy with { MaxNewTokens = 25 };
        bool RepeatsAnNgram(int[] output)
        {
            int[] all = [.. Prompt, .. output];
            var grams = Enumerable.Range(0, all.Length - n + 1).Select(i => string.Join(",", all.Skip(i).Take(n))).ToList();
            return grams.Count != grams.Distinct().Count();
        }
        if (n <= 2) Assert.True(RepeatsAnNgram(g.Generate(Prompt, o)), "the unconstrained output should repeat an n-gram");
        var constrained = g.Generate(Prompt, o with { NoRepeatNgramSize = n });
        Assert.Equal(25, constrained.Length);
        Assert.False(RepeatsAnNgram(constrained));
    }

    [Fact]
    public void BannedByNgramsFollowsEarlierOccurrences()
    {
        Assert.Equal(new[] { 3, 9 }, LogitsProcessing.BannedByNgrams([1, 2, 3, 1, 2, 9, 1, 2], 3).Order());
        Assert.Equal(new[] { 2, 9 }, LogitsProcessing.BannedByNgrams([1, 2, 1, 9, 1], 2).Order());
        Assert.Empty(LogitsProcessing.BannedByNgrams([1, 2], 3));
    }

    [Fact]
    public void MinNewTokensHoldsBackEndOfText()
    {
        using var m = Model();
        int first = new TextGenerator(m).Generate(Prompt, Greedy)[0];
        var g = new TextGenerator(m, endOfTextId: first); // the most likely first token is end-of-text
        var o = Greedy with { StopAtEndOfText = true };
        var immediate = g.Complete(Prompt, o);
        Assert.Empty(immediate.Ids);
        Assert.Equal(FinishReason.EndOfText, immediate.FinishReason);
        var held = g.Complete(Prompt, o with { MinNewTokens = 6 });
        Assert.True(held.Ids.Length >= 6, $"{held.Ids.Length} tokens");
        Assert.DoesNotContain(first, held.Ids.Take(6));
    }

    [Fact]
    public void StopSequencesCutTheTextExactlyEvenAcrossTokens()
    {
        using var m = Model();
        var tokenizer = new AngleTokenizer();
        var g = new TextGenerator(m, tokenizer);
        var free = g.Complete(Prompt, Greedy);
        Assert.Equal(FinishReason.Length, free.FinishReason);
        Assert.Equal(tokenizer.Decode(free.Ids), free.Text);
        int i = 4;
        string a = $"<{free.Ids[i]}>", b = $"<{free.Ids[i + 1]}>";

        // Starts inside token i and ends inside token i+1: the text is cut mid-token, the ids before token i.
        string spanning = a[1..] + b[..2];
        var cut = g.Complete(Prompt, Greedy with { StopSequences = ["never there", spanning] });
        int at = free.Text!.IndexOf(spanning, StringComparison.Ordinal);
        Assert.Equal(FinishReason.StopSequence, cut.FinishReason);
        Assert.Equal(free.Text[..at], cut.Text);
        int whole = 0;
        while (tokenizer.Decode(free.Ids.Take(whole + 1)).Length <= at) whole++;
        Assert.Equal(free.Ids[..whole], cut.Ids);
        Assert.True(cut.Text!.Length > tokenizer.Decode(cut.Ids).Length); // the text keeps the "<" that starts token i

        // On token boundaries the ids are cut exactly too.
        string boundary = a + b;
        int at2 = free.Text.IndexOf(boundary, StringComparison.Ordinal);
        var cut2 = g.Complete(Prompt, Greedy with { StopSequences = [boundary] });
        Assert.Equal(free.Text[..at2], cut2.Text);
        Assert.Equal(tokenizer.Decode(cut2.Ids), cut2.Text);
        Assert.Equal(cut2.Ids, g.Generate(Prompt, Greedy with { StopSequences = [boundary] }));
    }

    [Fact]
    public void StopSequencesNeedATokenizer()
    {
        using var m = Model();
        var e = Assert.Throws<GptSharpException>(() => new TextGenerator(m).Generate(Prompt, Greedy with { StopSequences = ["x"] }));
        Assert.Contains("stop_sequences", e.Message);
    }

    [Fact]
    public void FinishReasonsSayWhyGenerationEnded()
    {
        using var m = Model();
        var g = new TextGenerator(m);
        Assert.Equal(FinishReason.Length, g.Complete(Prompt, Greedy).FinishReason);
        var full = g.Complete(Enumerable.Range(0, 30).ToArray(), Greedy);
        Assert.Equal(FinishReason.ContextFull, full.FinishReason);
        Assert.Equal(3, full.Ids.Length);
        Assert.Null(full.Text);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        var cancelled = g.Complete(Prompt, Greedy, cts.Token);
        Assert.Equal(FinishReason.Cancelled, cancelled.FinishReason);
        Assert.Empty(cancelled.Ids);
        Assert.ThrowsAny<OperationCanceledException>(() => g.Generate(Prompt, Greedy, cts.Token));
    }

    [Theory]
    [InlineData("num_beams")]
    [InlineData("num_return_sequences")]
    [InlineData("repetition_penalty")]
    [InlineData("top_p")]
    [InlineData("temperature")]
    [InlineData("min_new_tokens")]
    [InlineData("no_repeat_ngram_size")]
    [InlineData("length_penalty")]
    public void InvalidDecodingOptionsAreNamed(string option)
    {
        var o = option switch
        {
            "num_beams" => new GenerationOptions { NumBeams = 0 },
            "num_return_sequences" => new GenerationOptions { NumBeams = 2, NumReturnSequences = 3 },
            "repetition_penalty" => new GenerationOptions { RepetitionPenalty = 0 },
            "top_p" => new GenerationOptions { TopP = 1.01 },
            "temperature" => new GenerationOptions { Temperature = -1 },
            "min_new_tokens" => new GenerationOptions { MaxNewTokens = 5, MinNewTokens = 6 },
            "no_repeat_ngram_size" => new GenerationOptions { NoRepeatNgramSize = -1 },
            _ => new GenerationOptions { LengthPenalty = double.NaN },
        };
        Assert.StartsWith($"invalid generation option: {option}", Assert.Throws<GptSharpException>(() => o.Validate()).Message);
        using var m = Model();
        Assert.Throws<GptSharpException>(() => new TextGenerator(m).Generate(Prompt, o));
    }

    [Fact]
    public void BeamSearchWithOneBeamIsGreedy()
    {
        using var m = Model();
        var g = new TextGenerator(m);
        var beam = Assert.Single(g.GenerateBeams(Prompt, Greedy with { NumBeams = 1 }));
        Assert.Equal(g.Generate(Prompt, Greedy), beam.Ids);
        Assert.NotNull(beam.Score);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BeamSearchWithTheCacheEqualsWithout(bool endOfText)
    {
        using var m = Model();
        // An end-of-text id the model likes, so some beams finish early.
        int eot = new TextGenerator(m).Generate(Prompt, Greedy)[2];
        var g = endOfText ? new TextGenerator(m, endOfTextId: eot) : new TextGenerator(m);
        var o = Greedy with { NumBeams = 4, NumReturnSequences = 4, MaxNewTokens = 12, StopAtEndOfText = endOfText };
        var cached = g.GenerateBeams(Prompt, o);
        var recomputed = g.GenerateBeams(Prompt, o with { UseCache = false });
        Assert.Equal(4, cached.Count);
        Assert.Equal(recomputed.Select(r => r.Ids), cached.Select(r => r.Ids));
        for (int i = 0; i < 4; i++) Assert.Equal(recomputed[i].Score!.Value, cached[i].Score!.Value, 4);
        Assert.Equal(cached[0].Ids, g.Generate(Prompt, o)); // Generate returns the best beam
    }

    [Fact]
    public void BeamsComeBestFirstWithTheirLogProbability()
    {
        using var m = Model(seed: 5);
        var g = new TextGenerator(m);
        var o = Greedy with { NumBeams = 3, NumReturnSequences = 3, MaxNewTokens = 8, LengthPenalty = 0 };
        var beams = g.GenerateBeams(Prompt, o);
        Assert.Equal(3, beams.Count);
        var scores = beams.Select(b => b.Score!.Value).ToArray();
        Assert.Equal(scores.OrderDescending(), scores);
        Assert.Equal(3, beams.Select(b => string.Join(",", b.Ids)).Distinct().Count());
        // With length_penalty 0 a score is the plain sum of the tokens' log-probabilities.
        foreach (var beam in beams) Assert.Equal(LogProbability(m, Prompt, beam.Ids), beam.Score!.Value, 3);
        // Beam search finds a sequence at least as likely as greedy decoding's.
        Assert.True(scores[0] >= LogProbability(m, Prompt, g.Generate(Prompt, o with { NumBeams = 1, NumReturnSequences = 1 })) - 1e-4);
    }

    [Fact]
    public void EarlyStoppingEndsOnceNumBeamsHypothesesAreFinished()
    {
        using var m = Model();
        int eot = new TextGenerator(m).Generate(Prompt, Greedy)[1];
        var g = new TextGenerator(m, endOfTextId: eot);
        var o = Greedy with { StopAtEndOfText = true, NumBeams = 2, NumReturnSequences = 2, MaxNewTokens = 20 };
        var early = g.GenerateBeams(Prompt, o with { EarlyStopping = true });
        var patient = g.GenerateBeams(Prompt, o);
        // Stopped as soon as two hypotheses ended, so both end with end-of-text; searching on keeps those and may find better.
        Assert.All(early, b => Assert.Equal(FinishReason.EndOfText, b.FinishReason));
        Assert.True(patient[0].Score >= early[0].Score);
    }

    [Fact]
    public void BeamSearchWithSamplingIsRefused()
    {
        var e = Assert.Throws<GptSharpException>(() => new GenerationOptions { NumBeams = 3 }.Validate());
        Assert.StartsWith("invalid generation option: num_beams", e.Message);
        Assert.Contains("do_sample", e.Message);
        new GenerationOptions { NumBeams = 3, DoSample = false }.Validate();
        new GenerationOptions { NumBeams = 3, Temperature = 0 }.Validate(); // temperature 0 is greedy
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void BeamSearchStopsABeamAtAStopSequenceAndCutsBeforeIt(int numBeams)
    {
        using var m = Model();
        var tokenizer = new AngleTokenizer();
        var g = new TextGenerator(m, tokenizer);
        var o = Greedy with { NumBeams = numBeams, NumReturnSequences = numBeams, MaxNewTokens = 12 };
        var free = g.GenerateBeams(Prompt, o);
        // Spans the best beam's tokens 3 and 4, starting and ending inside them.
        string a = $"<{free[0].Ids[3]}>", b = $"<{free[0].Ids[4]}>", stop = a[1..] + b[..2];
        Assert.DoesNotContain(stop, tokenizer.Decode(free[0].Ids[..4]));

        var stopped = g.GenerateBeams(Prompt, o with { StopSequences = [stop] });
        Assert.Equal(numBeams, stopped.Count);
        Assert.Contains(stopped, r => r.FinishReason == FinishReason.StopSequence);
        foreach (var r in stopped)
        {
            Assert.DoesNotContain(stop, r.Text);
            if (r.FinishReason != FinishReason.StopSequence) continue;
            // Cut exactly: the text ends where the stop sequence began, the ids hold only the tokens wholly before it.
            Assert.StartsWith(tokenizer.Decode(r.Ids), r.Text);
            Assert.True(r.Text!.Length - tokenizer.Decode(r.Ids).Length < "<96>".Length);
        }
        if (numBeams == 1)
        {
            // One beam is greedy decoding, stop sequences included.
            var greedy = g.Complete(Prompt, o with { NumBeams = 1, StopSequences = [stop] });
            var beam = Assert.Single(stopped);
            Assert.Equal(greedy.Ids, beam.Ids);
            Assert.Equal((greedy.Text, greedy.FinishReason), (beam.Text, beam.FinishReason));
            Assert.Equal(free[0].Text![..free[0].Text!.IndexOf(stop, StringComparison.Ordinal)], beam.Text);
        }
        var recomputed = g.GenerateBeams(Prompt, o with { StopSequences = [stop], UseCache = false });
        Assert.Equal(stopped.Select(r => (r.Text, r.FinishReason)), recomputed.Select(r => (r.Text, r.FinishReason)));
    }

    [Fact]
    public void BeamSearchAppliesTheLogitsProcessorsToEveryBeam()
    {
        using var m = Model();
        var g = new TextGenerator(m);
        var o = Greedy with { NumBeams = 3, NumReturnSequences = 3, MaxNewTokens = 20 };

        // no_repeat_ngram_size: no returned beam repeats a bigram of prompt + output.
        bool RepeatsABigram(int[] output)
        {
            int[] all = [.. Prompt, .. output];
            var grams = Enumerable.Range(0, all.Length - 1).Select(i => (all[i], all[i + 1])).ToList();
            return grams.Count != grams.Distinct().Count();
        }
        Assert.Contains(g.GenerateBeams(Prompt, o), r => RepeatsABigram(r.Ids));
        var noRepeat = g.GenerateBeams(Prompt, o with { NoRepeatNgramSize = 2 });
        Assert.All(noRepeat, r => Assert.False(RepeatsABigram(r.Ids)));

        // repetition_penalty: fewer repeats across the beams.
        int Repeated(IEnumerable<GenerationResult> rs) => rs.Sum(r => Repeats(r.Ids));
        Assert.True(Repeated(g.GenerateBeams(Prompt, o with { RepetitionPenalty = 3 })) < Repeated(g.GenerateBeams(Prompt, o)));

        // min_new_tokens: with an end-of-text the model likes, beams end early unless held back.
        int eot = new TextGenerator(m).Generate(Prompt, Greedy)[0];
        var withEnd = new TextGenerator(m, endOfTextId: eot);
        var ending = o with { StopAtEndOfText = true };
        Assert.Contains(withEnd.GenerateBeams(Prompt, ending), r => r.FinishReason == FinishReason.EndOfText && r.Ids.Length < 6);
        var held = withEnd.GenerateBeams(Prompt, ending with { MinNewTokens = 6 });
        Assert.All(held, r => Assert.True(r.Ids.Length >= 6, $"{r.Ids.Length} tokens"));
    }

    static double LogProbability(Gpt m, int[] prompt, int[] output)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        m.eval();
        int[] all = [.. prompt, .. output];
        var logits = m.Forward(tensor(all.Select(t => (long)t).ToArray(), [1, all.Length], ScalarType.Int64));
        var logProbs = logits[0].to(ScalarType.Float32).log_softmax(-1);
        return Enumerable.Range(0, output.Length).Sum(i => (double)logProbs[prompt.Length - 1 + i, output[i]].item<float>());
    }

    [Fact]
    public void BatchEqualsEachPromptAlone()
    {
        using var m = Model();
        IReadOnlyList<int>[] prompts = [Prompt, [1, 2, 3], [9, 9, 4, 60, 2], [33], [80, 11, 12], [1, 2, 4]];
        // End-of-text is a token one prompt's greedy run produces, so rows of a batch finish at different steps.
        int eot = new TextGenerator(m).Generate([1, 2, 3], Greedy)[3];
        var g = new TextGenerator(m, new AngleTokenizer(eot));
        string stop = $"<{new TextGenerator(m).Generate([9, 9, 4, 60, 2], Greedy)[2]}>";
        var reasons = new HashSet<FinishReason>();
        foreach (var o in new[]
        {
            Greedy with { StopAtEndOfText = true, MaxNewTokens = 15 },
            Greedy with { RepetitionPenalty = 1.5, NoRepeatNgramSize = 2, MinNewTokens = 2 },
            Greedy with { StopSequences = [stop], UseCache = false },
            new GenerationOptions { Seed = 4, Temperature = 0.8, TopK = 10, MaxNewTokens = 12 },
        })
        {
            var batch = g.GenerateBatch(prompts, o);
            Assert.Equal(prompts.Length, batch.Count);
            for (int i = 0; i < prompts.Length; i++)
            {
                var alone = g.Complete(prompts[i], o);
                Assert.Equal(alone.Ids, batch[i].Ids);
                Assert.Equal(alone.Text, batch[i].Text);
                Assert.Equal(alone.FinishReason, batch[i].FinishReason);
                reasons.Add(alone.FinishReason);
            }
        }
        Assert.Superset(new HashSet<FinishReason> { FinishReason.Length, FinishReason.EndOfText, FinishReason.StopSequence }, reasons);
    }
}
