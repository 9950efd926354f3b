using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Models;

/// <summary>
/// Mixed precision without autocast (TorchSharp has none): parameters and optimizer state stay fp32, while the float
/// Linear layers and the tied LM head multiply in <see cref="ComputeType"/> (bf16). While training, each weight is cast
/// once per forward pass through an autograd-tracked cast, so gradients land on the fp32 parameters. With autograd off
/// (inference), the casts are kept across passes — decoding would otherwise spend as long casting as multiplying —
/// until autograd is on again, the compute type changes or <see cref="ForgetCasts"/> is called (after changing weights
/// in place under no_grad). LayerNorm, softmax-cross-entropy and the residual stream stay fp32.
/// <para>Layers that quantisation swapped in (int8: <c>Models.Quantized.Int8WeightOnly</c>) compute in their own
/// precision; this applies to the float <c>nn.Linear</c> layers only.</para>
/// </summary>
public sealed class MatmulPrecision
{
    // Keyed by the module that owns the weight: the float layers are TorchSharp's nn.Linear, which has no room for a cast.
    readonly Dictionary<object, Tensor> _pass = new(ReferenceEqualityComparer.Instance);
    readonly Dictionary<object, Tensor> _kept = new(ReferenceEqualityComparer.Instance);
    ScalarType? _keptType;

    /// <summary>Null for plain fp32.</summary>
    public ScalarType? ComputeType { get; set; }

    /// <summary>The weight owned by <paramref name="owner"/> in the compute dtype, cast at most once per pass (or once while inferring).</summary>
    Tensor Cast(object owner, Tensor w)
    {
        if (ComputeType is not { } t || w.dtype == t) return w;
        if (!is_grad_enabled())
        {
            if (_keptType != t) ForgetCasts();
            if (!_kept.TryGetValue(owner, out var kept))
            {
                using var detached = w.detach();
                _kept[owner] = kept = detached.to(t).DetachFromDisposeScope();
                _keptType = t;
            }
            return kept;
        }
        if (!_pass.TryGetValue(owner, out var c)) _pass[owner] = c = w.to(t);
        return c;
    }

    Tensor Input(Tensor x) => ComputeType is { } t && x.dtype != t ? x.to(t) : x;

    /// <summary>y = x Wᵀ + b in the compute dtype; a layer other than nn.Linear (an int8 one) computes as it does.</summary>
    internal Tensor Linear(Tensor x, nn.Module<Tensor, Tensor> layer)
    {
        if (layer is not TorchSharp.Modules.Linear l) return layer.forward(x);
        return Linear(x, l, l.weight!, l.bias);
    }

    /// <summary>y = x Wᵀ + b for a weight [out, in] owned by <paramref name="owner"/> (the module that holds it).</summary>
    internal Tensor Linear(Tensor x, object owner, Tensor weight, Tensor? bias)
    {
        if (_kept.Count > 0 && is_grad_enabled()) ForgetCasts(); // training from here on: weights will change
        return nn.functional.linear(Input(x), Cast(owner, weight), bias is null ? null : Cast(bias, bias));
    }

    /// <summary>Forgets this pass's casts; their tensors belong to the caller's dispose scope.</summary>
    internal void EndPass() => _pass.Clear();

    /// <summary>Drops the casts kept for inference; call after changing weights in place with autograd off.</summary>
    public void ForgetCasts()
    {
        foreach (var t in _kept.Values) t.Dispose();
        _kept.Clear();
        _keptType = null;
    }
}
