using GptSharp.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Tests.Models;

public class GptTests
{
    static readonly GptConfig Tiny = new() { VocabSize = 97, BlockSize = 32, NLayer = 2, NHead = 4, NEmbd = 32 };

    [Fact]
    public void ParameterNamesFollowGpt2()
    {
        using var m = Gpt.Create(Tiny);
        var names = m.named_parameters().Select(p => p.name).ToHashSet();
        foreach (var n in new[] { "wte.weight", "wpe.weight", "h.0.ln_1.weight", "h.1.attn.c_attn.weight", "h.1.attn.c_attn.bias",
                     "h.0.attn.c_proj.weight", "h.0.ln_2.bias", "h.0.mlp.c_fc.weight", "h.1.mlp.c_proj.bias", "ln_f.weight", "ln_f.bias" })
            Assert.Contains(n, names);
        Assert.Equal(2 + 2 * 12 + 2, names.Count); // tied head: no lm_head.weight
    }

    [Fact]
    public void TinyPresetHasTheBenchmarkParameterCount()
    {
        using var m = new Gpt(GptPresets.Get("tiny") with { VocabSize = 8192, BlockSize = 256 });
        Assert.Equal(5_322_240, m.ParameterCount);
    }

    [Fact]
    public void SameSeedSameWeights()
    {
        using var a = Gpt.Create(Tiny, seed: 7);
        using var b = Gpt.Create(Tiny, seed: 7);
        using var c = Gpt.Create(Tiny, seed: 8);
        var pa = a.parameters().ToArray(); var pb = b.parameters().ToArray(); var pc = c.parameters().ToArray();
        Assert.All(pa.Zip(pb), p => Assert.True(p.First.allclose(p.Second, rtol: 0, atol: 0)));
        Assert.False(pa[0].allclose(pc[0]));
    }

    [Fact]
    public void CausalMaskHidesTheFuture()
    {
        using var m = Gpt.Create(Tiny);
        m.eval();
        using var a = tensor(new long[] { 1, 2, 3, 4, 5, 6 }).unsqueeze(0);
        using var b = tensor(new long[] { 1, 2, 3, 9, 9, 9 }).unsqueeze(0);
        using var la = m.Forward(a);
        using var lb = m.Forward(b);
        Assert.True(la[.., ..3].allclose(lb[.., ..3], rtol: 0, atol: 1e-6));
        Assert.False(la[.., 3].allclose(lb[.., 3]));
    }

    [Fact]
    public void KvCacheGivesTheSameLogitsAsAFullForward()
    {
        using var m = Gpt.Create(Tiny);
        m.eval();
        using var _ = no_grad();
        using var ids = tensor(new long[] { 5, 17, 3, 42, 8, 8, 1, 60, 22, 7 }).reshape(1, 10);
        using var full = m.Forward(ids);
        using var cache = new KvCache(Tiny.NLayer, Tiny.BlockSize);
        using var first = m.Forward(ids[.., ..4], cache);      // a prompt of 4
        using var next3 = m.Forward(ids[.., 4..7], cache);     // 3 at once with a past
        var singles = Enumerable.Range(7, 3).Select(i => m.Forward(ids[.., i..(i + 1)], cache)).ToArray();
        using var stitched = cat([first, next3, .. singles], 1);
        Assert.Equal(10, cache.Length);
        Assert.True(full.allclose(stitched, rtol: 1e-4, atol: 1e-5));
    }

    [Fact]
    public void TooLongSequenceIsAClearError()
    {
        using var m = Gpt.Create(Tiny);
        using var ids = zeros(1, 33, ScalarType.Int64);
        var e = Assert.Throws<GptSharpException>(() => m.Forward(ids));
        Assert.Contains("context (32)", e.Message);
    }

    [Fact]
    public void Bf16MatmulsTrainFp32Parameters()
    {
        using var m = Gpt.Create(Tiny);
        m.Precision.ComputeType = ScalarType.BFloat16;
        using var ids = randint(0, 97, [2, 16], dtype: ScalarType.Int64);
        using var logits = m.Forward(ids);
        Assert.Equal(ScalarType.BFloat16, logits.dtype);
        using var loss = Gpt.Loss(logits, ids);
        loss.backward();
        var w = m.named_parameters().First(p => p.name == "h.0.attn.c_attn.weight").parameter;
        Assert.Equal(ScalarType.Float32, w.dtype);
        Assert.Equal(ScalarType.Float32, w.grad!.dtype);
        Assert.True(w.grad.abs().sum().item<float>() > 0);
        // The tied embedding gets gradient from both the lookup and the LM head.
        Assert.NotNull(m.named_parameters().First(p => p.name == "wte.weight").parameter.grad);
    }

    [Fact]
    public void LastPositionOnlyGivesTheLastRowOfTheFullLogits()
    {
        using var m = Gpt.Create(Tiny);
        m.eval();
        using var _ = no_grad();
        using var ids = tensor(new long[] { 5, 17, 3, 42, 8 }).reshape(1, 5);
        using var full = m.Forward(ids);
        using var last = m.Forward(ids, lastPositionOnly: true);
        Assert.Equal(new long[] { 1, 1, 97 }, last.shape);
        Assert.True(full[.., ^1..].allclose(last, rtol: 1e-5, atol: 1e-6));
    }

    [Fact]
    public void ResizingTheVocabularyKeepsOldLogitsAndAddsMeanRows()
    {
        using var m = Gpt.Create(Tiny);
        m.eval();
        using var big = VocabularyResize.Resize(m, 101);
        Assert.Equal(101, big.Config.VocabSize);
        using var _ = no_grad();
        using var ids = tensor(new long[] { 1, 2, 3 }).unsqueeze(0);
        using var a = m.Forward(ids);
        using var b = big.Forward(ids);
        Assert.True(a.allclose(b[.., .., ..97], rtol: 1e-5, atol: 1e-6));
        var wte = big.named_parameters().First(p => p.name == "wte.weight").parameter;
        var mean = m.named_parameters().First(p => p.name == "wte.weight").parameter.mean([0]);
        Assert.True(wte[100].allclose(mean, rtol: 1e-5, atol: 1e-7));
        Assert.Throws<GptSharpException>(() => VocabularyResize.Resize(m, 50));
    }

    [Fact]
    public void Bf16InferenceKeepsCastsUntilTrainingChangesTheWeights()
    {
        using var m = Gpt.Create(Tiny);
        m.Precision.ComputeType = ScalarType.BFloat16;
        using var ids = tensor(new long[] { 5, 17, 3, 42 }).unsqueeze(0);
        Tensor Infer() { using var _ = no_grad(); return m.Forward(ids); }
        using var first = Infer();
        using var again = Infer(); // served from the kept casts
        Assert.True(first.equal(again).all().item<bool>());

        using var opt = optim.SGD(m.parameters(), 0.5);
        using (var loss = Gpt.Loss(m.Forward(ids), ids)) loss.backward();
        opt.step();
        using var after = Infer();
        Assert.False(first.allclose(after)); // the kept casts were dropped when autograd came back on
    }
}
