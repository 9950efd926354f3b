using GptSharp.Inference;
using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Tests.Inference;

public class SamplingTests
{
    // Ten distinct logits; the three best are ids 7, 2 and 9.
    static Tensor Logits() => tensor(new float[] { 0.1f, -1f, 2.5f, 0.3f, -0.2f, 0.9f, 0.0f, 3.0f, -2f, 2.0f });

    static int[] Finite(Tensor t) =>
        Enumerable.Range(0, (int)t.shape[0]).Where(i => float.IsFinite(t[i].item<float>())).ToArray();

    [Fact]
    public void TopKNeverSamplesOutsideTheKBest()
    {
        using var logits = Logits();
        var options = new GenerationOptions { TopK = 3, Temperature = 5.0 }; // a high temperature makes the tail tempting
        var seen = new HashSet<long>();
        for (int seed = 0; seed < 300; seed++)
        {
            using var rng = new torch.Generator((ulong)seed);
            seen.Add(Sampling.NextToken(logits, options, rng));
        }
        Assert.Equal(new long[] { 2, 7, 9 }, seen.Order());
    }

    [Fact]
    public void KeepTopKMasksEverythingElse()
    {
        using var logits = Logits();
        using var kept = Sampling.KeepTopK(logits, 3);
        Assert.Equal([2, 7, 9], Finite(kept));
        Assert.Equal(3.0f, kept[7].item<float>()); // survivors keep their values
        using var all = Sampling.KeepTopK(logits, 50);
        Assert.Equal(10, Finite(all).Length);
    }

    [Theory]
    [InlineData(0.30, new[] { 0 })]          // the best token alone (0.5) already reaches p
    [InlineData(0.70, new[] { 0, 1 })]       // 0.5 < 0.7 <= 0.8
    [InlineData(0.90, new[] { 0, 1, 2 })]    // 0.8 < 0.9 <= 0.95
    [InlineData(0.99, new[] { 0, 1, 2, 3 })]
    public void TopPKeepsTheSmallestSetReachingP(double p, int[] expected)
    {
        // Probabilities 0.5, 0.3, 0.15, 0.05, stored out of order to check the mapping back to vocabulary ids.
        float[] probs = [0.15f, 0.5f, 0.05f, 0.3f];
        int[] rank = [1, 3, 0, 2]; // ids by decreasing probability
        using var logits = tensor(probs).log();
        using var kept = Sampling.KeepTopP(logits, p);
        Assert.Equal(expected.Select(r => rank[r]).Order(), Finite(kept));
    }

    [Fact]
    public void TopPNeverSamplesOutsideTheNucleus()
    {
        using var logits = Logits();
        var options = new GenerationOptions { TopK = 0, TopP = 0.6 };
        var seen = new HashSet<long>();
        for (int seed = 0; seed < 300; seed++)
        {
            using var rng = new torch.Generator((ulong)seed);
            seen.Add(Sampling.NextToken(logits, options, rng));
        }
        // p(7) ≈ 0.43, p(2) ≈ 0.26: together past 0.6, so only these two are ever drawn.
        Assert.Equal(new long[] { 2, 7 }, seen.Order());
    }

    [Fact]
    public void TemperatureZeroAndNoSamplingAreTheArgmax()
    {
        using var logits = Logits();
        Assert.Equal(7, Sampling.NextToken(logits, new GenerationOptions { Temperature = 0 }));
        Assert.Equal(7, Sampling.NextToken(logits, new GenerationOptions { DoSample = false, Temperature = 3 }));
    }

    [Fact]
    public void SameSeedSameDraws()
    {
        using var logits = Logits();
        var options = new GenerationOptions { TopK = 0, Temperature = 2 };
        long[] Draws(ulong seed)
        {
            using var rng = new torch.Generator(seed);
            return Enumerable.Range(0, 20).Select(_ => Sampling.NextToken(logits, options, rng)).ToArray();
        }
        Assert.Equal(Draws(42), Draws(42));
        Assert.NotEqual(Draws(42), Draws(43));
    }

    [Fact]
    public void Bf16LogitsAreSampledInFp32()
    {
        using var logits = Logits().to(ScalarType.BFloat16);
        using var rng = new torch.Generator(1);
        long id = Sampling.NextToken(logits, new GenerationOptions { TopK = 3 }, rng);
        Assert.Contains(id, new long[] { 2, 7, 9 });
    }

    [Fact]
    public void ArgmaxReadInPlaceIsTorchsOnRowsTiesZerosAndNaNs()
    {
        using var scope = NewDisposeScope();
        var rng = new Random(5);
        // Rows of a [4, 50257] batch (views at an offset, as the decoder reads them), a vocabulary not a multiple of
        // the vector width, ties at the maximum, -0 before +0 as the maximum, and NaNs (torch's argmax picks the first).
        var batch = randn(4, 50_257, generator: new torch.Generator(3));
        var rows = Enumerable.Range(0, 4).Select(r => batch[r]).ToList();
        var tied = full(37, -1f); tied[5] = 2f; tied[30] = 2f; rows.Add(tied);
        var zeros = full(19, -3f); zeros[4] = -0f; zeros[11] = 0f; rows.Add(zeros);
        var nan = randn(1_000); nan[700] = float.NaN; nan[900] = float.NaN; rows.Add(nan);
        var last = full(41, -5f); last[40] = 1f; rows.Add(last);
        var one = tensor(new[] { (float)rng.NextDouble() }); rows.Add(one);
        foreach (var row in rows)
        {
            Assert.True(Sampling.TryArgmax(row, out int id));
            Assert.Equal(row.argmax().item<long>(), id);
        }
        Assert.Equal(5, Sampling.TryArgmax(tied, out int t) ? t : -1);
        Assert.Equal(4, Sampling.TryArgmax(zeros, out int z) ? z : -1);
        Assert.Equal(700, Sampling.TryArgmax(nan, out int n) ? n : -1);

        // Elsewhere, torch does it: another type, a strided view, a batch.
        Assert.False(Sampling.TryArgmax(batch[0].to(ScalarType.BFloat16), out _));
        Assert.False(Sampling.TryArgmax(batch[.., 0], out _));
        Assert.False(Sampling.TryArgmax(batch, out _));
    }

    /// <summary>The distribution libtorch's filters leave: temperature, top-k, top-p, min-p, then softmax.</summary>
    static double[] Filtered(Tensor logits, GenerationOptions o)
    {
        using var scope = NewDisposeScope();
        var x = logits / o.Temperature;
        if (o.TopK > 0) x = Sampling.KeepTopK(x, o.TopK);
        if (o.TopP < 1) x = Sampling.KeepTopP(x, o.TopP);
        if (o.MinP > 0) x = Sampling.KeepMinP(x, o.MinP);
        return x.softmax(-1).to(ScalarType.Float64).data<double>().ToArray();
    }

    [Theory]
    [InlineData(0, 1.0, 0.0, 1.0)]   // temperature alone, over every token
    [InlineData(0, 1.0, 0.0, 2.5)]
    [InlineData(0, 1.0, 0.2, 0.7)]   // min-p
    [InlineData(3, 1.0, 0.0, 1.0)]   // top-k
    [InlineData(0, 0.8, 0.0, 1.3)]   // top-p alone
    [InlineData(4, 0.9, 0.1, 0.8)]   // all of them
    public void DrawsFollowTheDistributionTheFiltersLeave(int topK, double topP, double minP, double temperature)
    {
        using var logits = Logits();
        var o = new GenerationOptions { TopK = topK, TopP = topP, MinP = minP, Temperature = temperature };
        double[] expected = Filtered(logits, o);
        using var rng = new torch.Generator(17);
        const int draws = 6000;
        var counts = new int[expected.Length];
        for (int i = 0; i < draws; i++) counts[Sampling.NextToken(logits, o, rng)]++;
        for (int id = 0; id < expected.Length; id++)
        {
            if (expected[id] == 0) Assert.Equal(0, counts[id]); // filtered out: never drawn
            else Assert.InRange((double)counts[id] / draws, expected[id] - 0.025, expected[id] + 0.025);
        }
    }

    [Theory]
    [InlineData(50, 1.0, 3.0f)]   // GPT-2's vocabulary, a peaked distribution, top-k
    [InlineData(0, 0.9, 3.0f)]    // the nucleus among the few most likely tokens
    [InlineData(0, 0.9, 0.05f)]   // a flat distribution: the nucleus holds thousands (everything sorted)
    [InlineData(0, 1.0, 0.05f)]
    public void OverAWholeVocabularyDrawsStayInTheFiltersSet(int topK, double topP, float scale)
    {
        using var logits = randn(50_257, generator: new torch.Generator(9)) * scale;
        var o = new GenerationOptions { TopK = topK, TopP = topP, Temperature = 0.9 };
        double[] expected = Filtered(logits, o);
        int allowed = expected.Count(p => p > 0);
        using var rng = new torch.Generator(3);
        const int draws = 600;
        int best = Array.IndexOf(expected, expected.Max()), bestDrawn = 0;
        var seen = new HashSet<long>();
        for (int i = 0; i < draws; i++)
        {
            long id = Sampling.NextToken(logits, o, rng);
            Assert.True(expected[id] > 0, $"token {id} is outside the {allowed} the filters keep");
            seen.Add(id);
            if (id == best) bestDrawn++;
        }
        // The most likely token as often as its probability says (±4 standard deviations), and not only it.
        double sd = Math.Sqrt(expected[best] * (1 - expected[best]) / draws);
        Assert.InRange((double)bestDrawn / draws, expected[best] - 4 * sd - 0.005, expected[best] + 4 * sd + 0.005);
        Assert.True(seen.Count > 10, $"{seen.Count} distinct tokens of {allowed}");
        long Fresh() { using var g = new torch.Generator(3); return Sampling.NextToken(logits, o, g); }
        Assert.Single(Enumerable.Range(0, 5).Select(_ => Fresh()).Distinct()); // a seed repeats its draw
    }
}
