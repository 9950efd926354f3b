using GptSharp.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Models.Quantized;

/// <summary>
/// y = x · (q · scale)ᵀ + bias with int8 weights and bf16 activations. A few rows at a time (decoding) go through
/// libtorch's int8 kernel, which reads a quarter of the fp32 bytes; many rows (a prompt) are matrix-matrix work that
/// the kernel does slower than a bf16 GEMM, so there the weights are widened to bf16 for that one product.
/// Other devices, or a libtorch without the kernel, always take the second way.
/// </summary>
public static class Int8MatMul
{
    public const ScalarType ActivationType = ScalarType.BFloat16;

    /// <summary>Up to this many rows use the int8 kernel (measured crossover on GPT-2 shapes: see bench/README.md).</summary>
    public const int KernelMaxRows = 32;

    public static bool KernelAvailable => AtenInt8MatMul.IsAvailable;

    /// <summary>x [..., in] → [..., out] in bfloat16.</summary>
    public static Tensor Linear(Tensor x, Int8Linear w)
    {
        // Called ~50 times per decoded token: temporaries are disposed by hand rather than through a dispose scope,
        // which alone costs as much as the rest of this method's bookkeeping.
        long[] shape = x.shape;
        long k = shape[^1];
        if (k != w.InFeatures)
            throw new ArgumentException($"input has {k} features; the layer takes {w.InFeatures}");
        long rows = 1;
        for (int i = 0; i < shape.Length - 1; i++) rows *= shape[i];

        Tensor? cast = x.dtype == ActivationType ? null : x.to(ActivationType);
        using var a = (cast ?? x).reshape(rows, k);
        cast?.Dispose();
        Tensor y;
        if (rows <= KernelMaxRows && w.OnCpu && KernelAvailable && a.device_type == DeviceType.CPU)
        {
            using var dense = a.is_contiguous() ? null : a.contiguous();
            y = AtenInt8MatMul.MatMul(dense ?? a, w.Values, w.Scale, k);
        }
        else
        {
            using var widened = w.Values * w.Scale.unsqueeze(1); // int8 · bf16 widens to bf16 in one pass
            y = nn.functional.linear(a, widened);
        }
        if (w.Bias is not null) y.add_(w.Bias);
        if (shape.Length == 2) return y;
        shape[^1] = w.OutFeatures;
        using (y) return y.view(shape);
    }
}
