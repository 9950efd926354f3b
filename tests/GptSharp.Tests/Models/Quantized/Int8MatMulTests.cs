using static TorchSharp.torch;
using GptSharp.Models.Quantized;

namespace GptSharp.Tests.Models.Quantized;

public class Int8MatMulTests
{
    static (Tensor x, Int8Weight q, Tensor bias, Tensor reference) Case(long rows, long inFeatures = 96, long outFeatures = 80)
    {
        using var g = new Generator(11);
        var w = randn([outFeatures, inFeatures], generator: g) * 0.05;
        var bias = randn([outFeatures], generator: g) * 0.1;
        var x = randn([rows, 3, inFeatures], generator: g);
        var q = Int8Weights.Quantize(w);
        // The exact product of what the kernel sees: bf16 inputs, the dequantised weights, fp32 arithmetic.
        using var xb = x.to(ScalarType.BFloat16).to(ScalarType.Float32);
        using var dq = Int8Weights.Dequantize(q.Values, q.Scale);
        var reference = nn.functional.linear(xb, dq, bias);
        w.Dispose();
        return (x, q, bias, reference);
    }

    [Theory]
    [InlineData(1)]   // decoding: libtorch's int8 kernel
    [InlineData(10)]  // 30 rows: still the kernel
    [InlineData(40)]  // a prompt: weights widened to bf16 for one GEMM
    public void MatchesTheDequantisedProductWithinBf16Rounding(int rows)
    {
        var (x, q, bias, reference) = Case(rows);
        using (x) using (q) using (bias) using (reference)
        using (var layer = Int8Linear.From(q, bias))
        using (var y = Int8MatMul.Linear(x, layer))
        {
            Assert.Equal(ScalarType.BFloat16, y.dtype);
            Assert.Equal(new long[] { rows, 3, 80 }, y.shape);
            using var err = (y.to(ScalarType.Float32) - reference).abs().max();
            using var scale = reference.abs().max();
            // bf16 keeps 8 significant bits: the output's own rounding, plus the bias's, dominates.
            Assert.True(err.item<float>() < 0.01f * scale.item<float>(), $"max error {err.item<float>()} against |y| up to {scale.item<float>()}");
        }
    }

    [Fact]
    public void TheKernelAndTheWidenedGemmAgree()
    {
        var (x, q, bias, reference) = Case(8);
        using (x) using (q) using (bias) using (reference)
        using (var layer = Int8Linear.From(q, bias))
        {
            Assert.True(Int8MatMul.KernelAvailable, "libtorch 2.10 exports aoti_torch_cpu__weight_int8pack_mm: without it decoding falls back to the slow path");
            // Rows 0..7 alone go through the kernel; the same rows inside a batch of 48 through the widened GEMM.
            using var small = Int8MatMul.Linear(x, layer);
            using var padded = cat([x, x, x, x, x, x], 0);
            using var large = Int8MatMul.Linear(padded, layer);
            using var diff = (small.to(ScalarType.Float32) - large[..8].to(ScalarType.Float32)).abs().max();
            Assert.True(diff.item<float>() < 0.02f, $"kernel and GEMM differ by {diff.item<float>()}");
        }
    }

    [Fact]
    public void AMismatchedInputIsAClearError()
    {
        var (x, q, bias, reference) = Case(2);
        using (x) using (q) using (bias) using (reference)
        using (var layer = Int8Linear.From(q, bias))
        using (var wrong = zeros(2, 95))
        {
            var e = Assert.Throws<ArgumentException>(() => Int8MatMul.Linear(wrong, layer));
            Assert.Contains("95 features", e.Message);
        }
    }

    [Fact]
    public void BadLayerTensorsAreRefusedWhenTheLayerIsMade()
    {
        using var values = zeros([4, 3], ScalarType.Int8);
        using var floatValues = zeros(4, 3);
        using var scale = ones([4], ScalarType.BFloat16);
        using var shortScale = ones([3], ScalarType.BFloat16);
        using var floatScale = ones(4);
        Assert.Contains("Int8 [out, in]", Assert.Throws<ArgumentException>(() => new Int8Linear(floatValues, scale, null)).Message);
        Assert.Contains("scale must be contiguous BFloat16 [4]", Assert.Throws<ArgumentException>(() => new Int8Linear(values, shortScale, null)).Message);
        Assert.Contains("scale must be contiguous BFloat16 [4]", Assert.Throws<ArgumentException>(() => new Int8Linear(values, floatScale, null)).Message);
        Assert.Contains("bias must be", Assert.Throws<ArgumentException>(() => new Int8Linear(values, scale, floatScale)).Message);
    }
}
