using GptSharp.Evaluation;

namespace GptSharp.Tests.Evaluation;

public class BleuTests
{
    // The example from Papineni et al. (2002), as in NLTK's documentation; reference values are NLTK's.
    static readonly string[] Hyp1 = "It is a guide to action which ensures that the military always obeys the commands of the party".Split(' ');
    static readonly string[] Ref1A = "It is a guide to action that ensures that the military will forever heed Party commands".Split(' ');
    static readonly string[] Ref1B = "It is the guiding principle which guarantees the military forces always being under the command of the Party".Split(' ');
    static readonly string[] Ref1C = "It is the practical guide for the army always to heed the directions of the party".Split(' ');
    static readonly string[] Hyp2 = "he read the book because he was interested in world history".Split(' ');
    static readonly string[] Ref2A = "he was interested in world history because he read the book".Split(' ');

    [Fact]
    public void MatchesThePaperExampleWithThreeReferences()
    {
        var r = Bleu.Corpus([Hyp1], [[Ref1A, Ref1B, Ref1C]]);
        Assert.Equal(0.5045666840058485, r.Score, 12);
        // Clipped matches / candidate n-grams: 17/18, 10/17, 7/16, 4/15.
        double[] expected = [17.0 / 18, 10.0 / 17, 7.0 / 16, 4.0 / 15];
        for (int n = 0; n < 4; n++) Assert.Equal(expected[n], r.Precisions[n], 12);
        Assert.Equal(1, r.BrevityPenalty);
    }

    [Fact]
    public void CorpusBleuPoolsCountsAcrossSentences()
    {
        var r = Bleu.Corpus([Hyp1, Hyp2], [[Ref1A, Ref1B, Ref1C], [Ref2A]]);
        Assert.Equal(0.5920778868801042, r.Score, 12);
        Assert.Equal(29, r.CandidateLength);
    }

    [Fact]
    public void ShortCandidatesPayTheBrevityPenalty()
    {
        // Every n-gram matches, but c = 2 < r = 6: BLEU = exp(1 - 6/2).
        var r = Bleu.Corpus([["the", "cat"]], [["the cat sat on the mat".Split(' ')]], maxOrder: 2);
        Assert.Equal(Math.Exp(-2), r.Score, 12);
        Assert.Equal(Math.Exp(-2), r.BrevityPenalty, 12);
        Assert.Equal(6, r.ReferenceLength);
    }

    [Fact]
    public void SmoothingRescuesMissingHigherOrderMatches()
    {
        string[] cand = "the cat sat on the mat".Split(' '), reference = "the cat is on the mat".Split(' ');
        // No 4-gram in common: unsmoothed BLEU is 0.
        Assert.Equal(0, Bleu.Corpus([cand], [[reference]]).Score);
        // Add-one for n > 1: (5/6 · 4/6 · 2/5 · 1/4)^(1/4).
        Assert.Equal(Math.Pow(5.0 / 6 * 4.0 / 6 * 2.0 / 5 * 1.0 / 4, 0.25), Bleu.Sentence(cand, reference).Score, 12);
        // Epsilon: the zero count becomes 0.1: (5/6 · 3/5 · 1/4 · 0.1/3)^(1/4).
        Assert.Equal(Math.Pow(5.0 / 6 * 3.0 / 5 * 1.0 / 4 * 0.1 / 3, 0.25),
            Bleu.Corpus([cand], [[reference]], smoothing: BleuSmoothing.Epsilon).Score, 12);
    }

    [Fact]
    public void IdenticalTextScoresOne() =>
        Assert.Equal(1, Bleu.Corpus([TextTokens.ForBleu("订单12345已经发货，预计三天内送达。")], [[TextTokens.ForBleu("订单12345已经发货，预计三天内送达。")]]).Score, 12);
}
