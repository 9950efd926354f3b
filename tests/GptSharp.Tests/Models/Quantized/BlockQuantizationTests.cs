using GptSharp.Models;
using GptSharp.Models.Quantized;

namespace GptSharp.Tests.Models.Quantized;

public class BlockQuantizationTests
{
    static float[] Weights(int count, int seed)
    {
        var rng = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => (float)(rng.NextDouble() * 2 - 1) * 0.1f)];
    }

    [Theory]
    [InlineData(4, 64)]
    [InlineData(8, 64)]
    [InlineData(4, 40)] // a partial last block
    public void DequantisedWeightsAreWithinAStepAndQuantiseBackToTheSameBytes(int bits, int k)
    {
        int n = 3;
        var w = Weights(n * k, seed: bits + k);
        var (packed, scales, blocks) = BlockQuantization.Quantize(w, n, k, bits);
        var back = BlockQuantization.Dequantize(packed, scales, n, k, bits);
        for (int row = 0; row < n; row++)
            for (int i = 0; i < k; i++)
            {
                // Half a step, except on the side opposite the extreme weight, whose top level is one short (-8…7).
                float step = Math.Abs(scales[row * blocks + i / BlockQuantization.BlockSize]);
                float error = Math.Abs(back[row * k + i] - w[row * k + i]);
                bool clamped = Math.Abs(w[row * k + i]) > (Math.Pow(2, bits - 1) - 0.5) * step;
                Assert.InRange(error, 0, (clamped ? step : step / 2) + 1e-7f);
            }
        var (again, againScales, _) = BlockQuantization.Quantize(back, n, k, bits);
        Assert.Equal(packed, again);
        Assert.Equal(scales, againScales);
    }

    [Fact]
    public void RoundTripChangesTheBlockLinearWeightsAndTheTiedHeadOnlyAndIsIdempotent()
    {
        using var model = Gpt.Create(new GptConfig { VocabSize = 64, BlockSize = 16, NLayer = 1, NHead = 2, NEmbd = 32 }, seed: 2);
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        BlockQuantization.RoundTrip(model, 4);
        var once = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        foreach (var (name, t) in once)
            Assert.Equal(BlockQuantization.IsBlockLinear(name) || name == "wte.weight", !t.equal(before[name]).all().item<bool>());
        BlockQuantization.RoundTrip(model, 4);
        foreach (var (name, p) in model.named_parameters())
            Assert.True(p.equal(once[name]).all().item<bool>(), name);
        Assert.True(BlockQuantization.IsBlockLinear("h.0.mlp.c_fc.weight"));
        Assert.False(BlockQuantization.IsBlockLinear("h.0.mlp.c_fc.bias"));
        Assert.False(BlockQuantization.IsBlockLinear("wte.weight"));
    }
}
