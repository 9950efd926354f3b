using static TorchSharp.torch;
using GptSharp.Models.Quantized;

namespace GptSharp.Tests.Models.Quantized;

public class Int8WeightsTests
{
    [Fact]
    public void EachRowGetsItsOwnScaleAndRoundsToTheNearestLevel()
    {
        using var g = new TorchSharp.torch.Generator(3);
        using var w = randn([6, 10], generator: g) * tensor(new float[] { 0.001f, 0.01f, 0.1f, 1, 10, 100 }).unsqueeze(1);
        using var q = Int8Weights.Quantize(w);

        Assert.Equal(ScalarType.Int8, q.Values.dtype);
        Assert.Equal(new long[] { 6 }, q.Scale.shape);
        using var rowMax = w.abs().amax([1]);
        // max|w|/127, rounded to the nearest bf16 (the int8 kernel's scale dtype): exactly representable there.
        Assert.True(allclose(q.Scale, rowMax / 127, rtol: 1.0 / 256, atol: 0));
        using var asBf16 = q.Scale.to(ScalarType.BFloat16).to(ScalarType.Float32);
        Assert.True(asBf16.allclose(q.Scale, rtol: 0, atol: 0));
        // The largest weight of each row takes (nearly) the extreme level; every error is at most half a step.
        using var peak = q.Values.abs().amax([1]);
        Assert.All(peak.data<sbyte>().ToArray(), v => Assert.InRange(v, (sbyte)126, (sbyte)127));
        using var back = Int8Weights.Dequantize(q.Values, q.Scale);
        using var error = (back - w).abs() / q.Scale.unsqueeze(1);
        Assert.True(error.max().item<float>() <= 0.5f + 1e-4f);
    }

    [Fact]
    public void AZeroRowStaysZero()
    {
        using var w = tensor(new float[,] { { 0, 0, 0 }, { 1, -2, 0.5f } });
        using var q = Int8Weights.Quantize(w);
        using var back = Int8Weights.Dequantize(q.Values, q.Scale);
        Assert.Equal(new float[] { 0, 0, 0 }, back[0].data<float>().ToArray());
        // scale = bf16(2/127) = 0.0157470703125: 1/scale = 63.504, 2/scale = 127.008, 0.5/scale = 31.75.
        Assert.Equal(new sbyte[] { 64, -127, 32 }, q.Values[1].data<sbyte>().ToArray());
    }
}
