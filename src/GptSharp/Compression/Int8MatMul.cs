using GptSharp.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Compression;

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
        long k = x.shape[^1];
        if (k != w.InFeatures)
            throw new ArgumentException($"input has {k} features; the layer takes {w.InFeatures}");
        using var scope = NewDisposeScope();
        var a = x.reshape(-1, k);
        if (a.dtype != ActivationType) a = a.to(ActivationType);
        Tensor y;
        if (a.shape[0] <= KernelMaxRows && a.device_type == DeviceType.CPU && w.Values.device_type == DeviceType.CPU && KernelAvailable)
            y = AtenInt8MatMul.MatMul(a.contiguous(), w.Values, w.Scale);
        else
            y = nn.functional.linear(a, w.Values * w.Scale.unsqueeze(1)); // int8 · bf16 widens to bf16 in one pass
        if (w.Bias is not null) y.add_(w.Bias);
        var shape = x.shape.ToArray();
        shape[^1] = w.OutFeatures;
        return y.view(shape).MoveToOuterDisposeScope();
    }
}
