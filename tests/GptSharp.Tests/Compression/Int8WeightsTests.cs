using GptSharp.Compression;
using static TorchSharp.torch;

namespace GptSharp.Tests.Compression;

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
        Assert.True(allclose(q.Scale, rowMax / 127, rtol: 1e-6, atol: 0));
        // The largest weight of each row takes the extreme level; every error is at most half a step.
        using var peak = q.Values.abs().amax([1]);
        Assert.All(peak.data<sbyte>().ToArray(), v => Assert.Equal(127, v));
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
        Assert.Equal(new sbyte[] { 64, -127, 32 }, q.Values[1].data<sbyte>().ToArray()); // 1/(2/127) = 63.5 rounds to even
    }
}
