using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Models;

/// <summary>
/// Mixed precision without autocast (TorchSharp has none): parameters and optimizer state stay fp32, while the float
/// Linear layers and the tied LM head multiply in <see cref="ComputeType"/> (bf16). While training, each weight is cast
/// in every forward pass (it is used once per pass) through an autograd-tracked cast, so gradients land on the fp32
/// parameters. With autograd off (inference), the casts are kept across passes in each layer's <see cref="KeptCasts"/>
/// — decoding would otherwise spend as long casting as multiplying — until autograd is on again, the compute type
/// changes or <see cref="ForgetCasts"/> is called (after changing weights in place under no_grad). LayerNorm,
/// softmax-cross-entropy and the residual stream stay fp32.
/// <para>Layers that quantisation swapped in (int8: <c>Models.Quantized.Int8WeightOnly</c>) compute in their own
/// precision; this applies to the float <c>nn.Linear</c> layers only.</para>
/// </summary>
public sealed class MatmulPrecision
{
    readonly List<KeptCasts> _layers = [];
    bool _anyKept;

    /// <summary>Null for plain fp32.</summary>
    public ScalarType? ComputeType { get; set; }

    /// <summary>The kept casts of one more float layer (each layer asks once, when it is built).</summary>
    internal KeptCasts ForLayer()
    {
        var casts = new KeptCasts();
        _layers.Add(casts);
        return casts;
    }

    /// <summary>y = x Wᵀ + b in the compute dtype; a layer other than nn.Linear (an int8 one) computes as it does.</summary>
    internal Tensor Linear(Tensor x, nn.Module<Tensor, Tensor> layer, KeptCasts casts)
    {
        if (layer is not TorchSharp.Modules.Linear l) return layer.forward(x);
        return Linear(x, l.weight!, l.bias, casts);
    }

    /// <summary>y = x Wᵀ + b for a weight [out, in] whose casts <paramref name="casts"/> keeps.</summary>
    internal Tensor Linear(Tensor x, Tensor weight, Tensor? bias, KeptCasts casts)
    {
        if (ComputeType is null && !_anyKept) return nn.functional.linear(x, weight, bias); // plain fp32
        bool inferring = !is_grad_enabled();
        if (_anyKept && !inferring) ForgetCasts(); // training from here on: weights will change
        if (ComputeType is not { } t) return nn.functional.linear(x, weight, bias);
        if (x.dtype != t) x = x.to(t);
        if (inferring)
        {
            _anyKept = true;
            return nn.functional.linear(x, weight.dtype == t ? weight : casts.Weight(weight, t),
                bias is null || bias.dtype == t ? bias : casts.Bias(bias, t));
        }
        return nn.functional.linear(x, weight.dtype == t ? weight : weight.to(t), bias is null || bias.dtype == t ? bias : bias.to(t));
    }

    /// <summary>Drops the casts kept for inference; call after changing weights in place with autograd off.</summary>
    public void ForgetCasts()
    {
        foreach (var layer in _layers) layer.Forget();
        _anyKept = false;
    }
}
