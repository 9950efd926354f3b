using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Models;

/// <summary>
/// Mixed precision without autocast (TorchSharp has none): parameters and optimizer state stay fp32, while matmuls
/// run in <see cref="ComputeType"/> (bf16). Each weight is cast once per forward pass through an autograd-tracked
/// cast, so gradients land on the fp32 parameters. LayerNorm, softmax-cross-entropy and the residual stream stay fp32.
/// </summary>
public sealed class MatmulPrecision
{
    readonly Dictionary<IntPtr, Tensor> _casts = new();

    /// <summary>Null for plain fp32.</summary>
    public ScalarType? ComputeType { get; set; }

    /// <summary>The weight in the compute dtype, cast at most once per forward pass.</summary>
    internal Tensor Cast(Tensor w)
    {
        if (ComputeType is not { } t || w.dtype == t) return w;
        if (!_casts.TryGetValue(w.Handle, out var c)) _casts[w.Handle] = c = w.to(t);
        return c;
    }

    internal Tensor Input(Tensor x) => ComputeType is { } t && x.dtype != t ? x.to(t) : x;

    /// <summary>y = x Wᵀ + b in the compute dtype.</summary>
    internal Tensor Linear(Tensor x, nn.Module<Tensor, Tensor> linear)
    {
        var l = (TorchSharp.Modules.Linear)linear;
        return nn.functional.linear(Input(x), Cast(l.weight!), l.bias is null ? null : Cast(l.bias));
    }

    /// <summary>Forgets this pass's casts; their tensors belong to the caller's dispose scope.</summary>
    internal void EndPass() => _casts.Clear();
}
