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

    /// <summary>The format written out element by element: what the tensor implementation must give byte for byte.</summary>
    static (byte[] Packed, float[] Scales) Reference(float[] w, int n, int k, int bits)
    {
        const int size = BlockQuantization.BlockSize;
        int blocks = (k + size - 1) / size, blob = size * bits / 8, zero = 1 << (bits - 1);
        var packed = new byte[n * blocks * blob];
        var scales = new float[n * blocks];
        for (int row = 0; row < n; row++)
            for (int block = 0; block < blocks; block++)
            {
                int start = block * size, end = Math.Min(k, start + size);
                float extreme = 0;
                for (int i = start; i < end; i++)
                    if (Math.Abs(w[row * k + i]) > Math.Abs(extreme)) extreme = w[row * k + i];
                float scale = scales[row * blocks + block] = extreme / -zero;
                for (int i = 0; i < size; i++)
                {
                    float v = start + i < end ? w[row * k + start + i] : 0f;
                    int q = scale == 0 ? zero : Math.Clamp((int)MathF.Round(v / scale) + zero, 0, 2 * zero - 1);
                    int at = (row * blocks + block) * blob;
                    if (bits == 8) packed[at + i] = (byte)q;
                    else packed[at + i / 2] |= (byte)(i % 2 == 0 ? q : q << 4);
                }
            }
        return (packed, scales);
    }

    [Theory]
    [InlineData(4, 96)]
    [InlineData(8, 96)]
    [InlineData(4, 50)]
    [InlineData(8, 50)]
    public void QuantisingAsTensorsGivesTheFormatsBytesForTiesHalvesAndZeroBlocks(int bits, int k)
    {
        int n = 5;
        var w = Weights(n * k, seed: 7 * bits + k);
        for (int i = 0; i < 32; i++) w[k + i] = 0f;                  // row 1: an all-zero first block (scale 0)
        (w[2 * k + 3], w[2 * k + 9]) = (0.3f, -0.3f);                 // row 2: a tie of magnitudes, the first one's sign wins
        for (int i = 0; i < 32; i++) w[3 * k + i] = (i % 17 - 8) * 0.5f / 8f * (bits == 8 ? 1f / 16 : 1f); // exact halves
        var (expected, expectedScales) = Reference(w, n, k, bits);
        var (packed, scales, blocks) = BlockQuantization.Quantize(w, n, k, bits);
        Assert.Equal((k + 31) / 32, blocks);
        Assert.Equal(expectedScales, scales);
        Assert.Equal(expected, packed);
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
