using GptSharp.Inference.Kernels;
using GptSharp.Models.Quantized;
using static TorchSharp.torch;

namespace GptSharp.Tests.Inference.Kernels;

public unsafe class MatVecTests
{
    const int K = 192, N = 37;

    static float[] Random(int count, int seed, float scale = 1f)
    {
        var r = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => (float)(r.NextDouble() * 2 - 1) * scale)];
    }

    /// <summary>Per block of 32: scale max|x|/127, levels round(x/scale) (ties to even), natural order.</summary>
    static (float[] Scales, int[] Levels) Reference(float[] x)
    {
        var scales = new float[x.Length / 32];
        var levels = new int[x.Length];
        for (int b = 0; b < scales.Length; b++)
        {
            float max = Enumerable.Range(0, 32).Max(i => MathF.Abs(x[b * 32 + i]));
            scales[b] = max / 127f;
            for (int i = 0; i < 32; i++) levels[b * 32 + i] = max > 0 ? (int)MathF.Round(x[b * 32 + i] * (127f / max)) : 0;
        }
        return (scales, levels);
    }

    [Theory]
    [InlineData(8, true)]
    [InlineData(4, true)]
    [InlineData(8, false)]
    [InlineData(4, false)]
    public void ActivationsAreQuantisedPerBlockAndLaidOutInThePackedOrder(int bits, bool wide)
    {
        if (!RowKernels.Available(wide ? 512 : 256)) return;
        var x = Random(K, 1);
        x[40] = 0; // a block with an exact zero and one of all zeros
        for (int i = 64; i < 96; i++) x[i] = 0;
        var (scales, levels) = Reference(x);
        using var q = new QuantizedActivations(K);
        fixed (float* p = x) q.Quantize(p, K, bits, wide);
        Assert.Equal(scales, new ReadOnlySpan<float>(q.Scales, scales.Length).ToArray());
        var order = bits == 8 ? PackedWeights.Order8 : PackedWeights.Order4;
        for (int pair = 0; pair < K / 64; pair++)
            for (int P = 0; P < 64; P++)
            {
                int expected = levels[pair * 64 + order[P]];
                int actual = bits == 8 ? q.Int16[pair * 64 + P] : q.Int8[pair * 64 + P];
                Assert.True(expected == actual, $"pair {pair} position {P}: expected level {expected}, got {actual}");
            }
        if (bits == 4)
            for (int b = 0; b < K / 32; b++)
                Assert.Equal(8f * Enumerable.Range(0, 32).Sum(i => levels[b * 32 + i]), q.LevelSums[b]);
    }

    [Theory]
    [InlineData(8, 512)]
    [InlineData(4, 512)]
    [InlineData(8, 256)]
    [InlineData(4, 256)]
    public void BlockProductsEqualTheQuantisedWeightsTimesTheQuantisedActivations(int bits, int width)
    {
        if (!RowKernels.Available(width)) return;
        bool wide = width == 512;
        var w = Random(N * K, 2);
        for (int i = 0; i < 32; i++) w[3 * K + 64 + i] = 0; // an all-zero block
        var x = Random(K, 3, scale: 4f);
        var bias = Random(N, 4);
        using var weight = tensor(w, [N, K]);
        using var packed = PackedWeights.Quantize(weight, bits);
        var (levels, scales, _) = BlockQuantization.Quantize(w, N, K, bits);
        var dequantised = BlockQuantization.Dequantize(levels, scales, N, K, bits);
        var (xScales, xLevels) = Reference(x);
        using var q = new QuantizedActivations(K);
        var y = new float[N];
        fixed (float* px = x, py = y, pb = bias)
        {
            q.Quantize(px, K, bits, wide);
            Product(packed, q, py, pb, accumulate: false);
        }
        for (int n = 0; n < N; n++)
        {
            double expected = bias[n];
            for (int i = 0; i < K; i++) expected += (double)dequantised[n * K + i] * xLevels[i] * xScales[i / 32];
            Assert.True(Math.Abs(expected - y[n]) <= 1e-4 * (1 + Math.Abs(expected)), $"row {n}: expected {expected}, got {y[n]}");
        }
        // accumulate adds to what is there
        var before = y.ToArray();
        fixed (float* py = y) Product(packed, q, py, null, accumulate: true);
        for (int n = 0; n < N; n++) Assert.Equal(2 * before[n] - bias[n], y[n], 1e-4f * (1 + Math.Abs(before[n])));

        void Product(PackedWeights weights, QuantizedActivations activations, float* into, float* add, bool accumulate)
        {
            if (bits == 8 && wide) MatVec.Int8(weights.Data, activations, into, add, 0, N, K, accumulate);
            else if (bits == 8) MatVec.Int8x256(weights.Data, activations, into, add, 0, N, K, accumulate);
            else if (wide) MatVec.Int4(weights.Data, activations, into, add, 0, N, K, accumulate);
            else MatVec.Int4x256(weights.Data, activations, into, add, 0, N, K, accumulate);
        }
    }

    [Fact]
    public void FloatProductsAreDotProductsOverTheRowsAsked()
    {
        if (!RowKernels.Available(256)) return;
        var w = Random(N * K, 5);
        var x = Random(K, 6);
        var y = Enumerable.Repeat(float.NaN, N).ToArray();
        fixed (float* pw = w, px = x, py = y) MatVec.Float32(pw, px, py, null, 3, 30, K, accumulate: false);
        for (int n = 0; n < N; n++)
            if (n is < 3 or >= 30) Assert.True(float.IsNaN(y[n]), $"row {n} was written");
            else Assert.Equal(Enumerable.Range(0, K).Sum(i => (double)w[n * K + i] * x[i]), y[n], 1e-4);
    }

    [Fact]
    public void BFloat16ProductsWidenEachWeightExactly()
    {
        if (!RowKernels.Available(256)) return;
        var w = Random(N * K, 7);
        var x = Random(K, 8);
        var bias = Random(N, 9);
        // The weights' bfloat16 halves (round to nearest even), as torch converts them.
        using var halves = tensor(w).to(ScalarType.BFloat16);
        var exact = halves.to(ScalarType.Float32).data<float>().ToArray();
        var bits = new ushort[N * K];
        halves.bytes.CopyTo(System.Runtime.InteropServices.MemoryMarshal.AsBytes(bits.AsSpan()));
        var y = Enumerable.Repeat(1f, N).ToArray();
        fixed (ushort* pw = bits)
        fixed (float* px = x, py = y, pb = bias)
            MatVec.BFloat16(pw, px, py, pb, 0, N, K, accumulate: true);
        for (int n = 0; n < N; n++)
            Assert.Equal(1 + bias[n] + Enumerable.Range(0, K).Sum(i => (double)exact[n * K + i] * x[i]), y[n], 1e-4);
    }
}
