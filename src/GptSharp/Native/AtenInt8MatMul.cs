using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Native;

/// <summary>
/// libtorch's CPU kernel for weight-only int8 matmuls, <c>aten::_weight_int8pack_mm</c>: y = a · (w · scale)ᵀ for
/// a [M, K] in bf16, w int8 [N, K] and scales [N] in a's dtype. It streams the int8 weights and widens them inside
/// the dot products, so a decoding step reads a quarter of the fp32 bytes. TorchSharp does not bind it, but libtorch
/// exports it through the C shim AOTInductor uses (<c>aoti_torch_cpu__weight_int8pack_mm</c>), whose tensor handles
/// are heap-allocated <c>at::Tensor</c> pointers: exactly TorchSharp's handles, so results wrap without copying.
/// </summary>
internal static unsafe class AtenInt8MatMul
{
    const string Export = "aoti_torch_cpu__weight_int8pack_mm";
    static readonly delegate* unmanaged<nint, nint, nint, nint*, int> Kernel = Resolve();

    /// <summary>False where this libtorch lacks the export (other versions or platforms): callers dequantise instead.</summary>
    public static bool IsAvailable => Kernel != null;

    /// <summary>
    /// a [M, K] bf16 contiguous on the CPU, times w int8 [N, K] with scales bf16 [N] (checked by the caller once, as
    /// <c>Int8Linear</c> does). a is checked here because the shim reports a failed check only as an error code.
    /// </summary>
    public static Tensor MatMul(Tensor a, Tensor w, Tensor scales, long inFeatures)
    {
        if (Kernel == null) throw new InvalidOperationException($"{Export} is not exported by this libtorch");
        long[] shape = a.shape;
        if (shape.Length != 2 || shape[1] != inFeatures || a.dtype != ScalarType.BFloat16 || a.device_type != DeviceType.CPU || !a.is_contiguous())
            throw new ArgumentException($"int8 matmul needs a contiguous bf16 [M, {inFeatures}] input on the CPU; got {a.dtype} " +
                $"[{string.Join(", ", shape)}] on {a.device}");
        nint result;
        if (Kernel(a.Handle, w.Handle, scales.Handle, &result) != 0 || result == 0)
            throw new GptSharpException($"libtorch's {Export} failed (its message is on stderr)");
        return Tensor.UnsafeCreateTensor(result);
    }

    static delegate* unmanaged<nint, nint, nint, nint*, int> Resolve()
    {
        TorchRuntime.Initialize();
        nint lib = TorchRuntime.LibTorchCpu;
        if (lib == 0)
            foreach (var name in new[] { "libtorch_cpu.so", "torch_cpu", "libtorch_cpu.dylib" })
                if (NativeLibrary.TryLoad(name, typeof(torch).Assembly, null, out lib)) break;
        return lib != 0 && NativeLibrary.TryGetExport(lib, Export, out nint fn)
            ? (delegate* unmanaged<nint, nint, nint, nint*, int>)fn
            : null;
    }
}
