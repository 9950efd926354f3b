using GptSharp.Compression;
using TorchSharp;
using static TorchSharp.torch;
using GptSharp.Models.Quantized;

namespace GptSharp.Models;

/// <summary>
/// Mixed precision without autocast (TorchSharp has none): parameters and optimizer state stay fp32, while matmuls
/// run in <see cref="ComputeType"/> (bf16). While training, each weight is cast once per forward pass through an
/// autograd-tracked cast, so gradients land on the fp32 parameters. With autograd off (inference), the casts are kept
/// across passes — decoding would otherwise spend as long casting as multiplying — until autograd is on again, the
/// compute type changes or <see cref="ForgetCasts"/> is called (after changing weights in place under no_grad).
/// LayerNorm, softmax-cross-entropy and the residual stream stay fp32.
/// <para><see cref="Int8Inference"/> goes further for inference: weights kept as int8 (<see cref="Int8Weights"/>).</para>
/// </summary>
public sealed class MatmulPrecision
{
    readonly Dictionary<object, Tensor> _pass = new(ReferenceEqualityComparer.Instance);
    readonly Dictionary<object, Tensor> _kept = new(ReferenceEqualityComparer.Instance);
    readonly Dictionary<object, Int8Linear> _int8 = new(ReferenceEqualityComparer.Instance);
    ScalarType? _keptType;
    bool _int8Inference, _floatWeightsReleased;

    /// <summary>Null for plain fp32.</summary>
    public ScalarType? ComputeType { get; set; }

    /// <summary>
    /// Weight-only int8 inference: with autograd off, every Linear layer and the LM head multiply with int8 weights
    /// (one bf16 scale per output channel) and bf16 activations, whatever <see cref="ComputeType"/> says. Each weight
    /// is quantised from its float value on first use and kept like a cast; with autograd on, the float weights are
    /// used as usual. A model loaded from an int8 directory starts with this on and its stored int8 weights kept.
    /// </summary>
    public bool Int8Inference
    {
        get => _int8Inference;
        set
        {
            if (!value && _floatWeightsReleased)
                throw new GptSharpException("this model's float weights were released for int8 inference: reload it to use another precision");
            if (!value) ForgetInt8();
            _int8Inference = value;
        }
    }

    /// <summary>True once <see cref="Gpt.ReleaseFloatWeights"/> has run: the model can only infer, in int8.</summary>
    public bool FloatWeightsReleased => _floatWeightsReleased;

    /// <summary>Sets up inference in <paramref name="precision"/>; <see cref="InferencePrecision.Auto"/> changes nothing.</summary>
    public void Use(InferencePrecision precision)
    {
        if (precision == InferencePrecision.Auto) return;
        Int8Inference = precision == InferencePrecision.Int8;
        ComputeType = precision == InferencePrecision.BFloat16 ? ScalarType.BFloat16 : null;
    }

    /// <summary>The weight owned by <paramref name="owner"/> in the compute dtype, cast at most once per pass (or once while inferring).</summary>
    Tensor Cast(object owner, Tensor w)
    {
        if (ComputeType is not { } t || w.dtype == t) return w;
        if (!is_grad_enabled())
        {
            if (_keptType != t) ForgetFloatCasts();
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

    /// <summary>y = x Wᵀ + b in the compute dtype.</summary>
    internal Tensor Linear(Tensor x, nn.Module<Tensor, Tensor> linear)
    {
        var l = (TorchSharp.Modules.Linear)linear;
        return Linear(x, l, l.weight!, l.bias);
    }

    /// <summary>y = x Wᵀ + b for a weight [out, in] owned by <paramref name="owner"/> (the module that holds it).</summary>
    internal Tensor Linear(Tensor x, object owner, Tensor weight, Tensor? bias)
    {
        if (_int8Inference && !is_grad_enabled()) return Int8MatMul.Linear(x, Int8(owner, weight, bias));
        RequireFloatWeights();
        if (is_grad_enabled() && (_kept.Count > 0 || _int8.Count > 0)) ForgetCasts(); // training from here on: weights will change
        return nn.functional.linear(Input(x), Cast(owner, weight), bias is null ? null : Cast(bias, bias));
    }

    /// <summary>The int8 form of <paramref name="owner"/>'s weight, quantised on first use and kept.</summary>
    internal Int8Linear Int8(object owner, Tensor weight, Tensor? bias)
    {
        if (!_int8.TryGetValue(owner, out var q))
        {
            using var w = Int8Weights.Quantize(weight);
            _int8[owner] = q = Int8Linear.From(w, bias);
        }
        return q;
    }

    /// <summary>Rows <paramref name="ids"/> of an embedding kept only as int8 ([.., C] in float32).</summary>
    internal Tensor Int8Embedding(object owner, Tensor ids)
    {
        if (is_grad_enabled()) RequireFloatWeights();
        if (!_int8.TryGetValue(owner, out var q)) throw new InvalidOperationException("the embedding has no int8 weights");
        using var flat = ids.reshape(-1);
        using var rows = q.Values.index_select(0, flat);
        using var scales = q.Scale.index_select(0, flat);
        using var values = Int8Weights.Dequantize(rows, scales);
        var shape = ids.shape.Append(q.InFeatures).ToArray();
        return values.view(shape);
    }

    internal void MarkFloatWeightsReleased() => _floatWeightsReleased = true;

    /// <summary>Throws the error for anything but int8 inference once the float weights are gone.</summary>
    internal void RequireFloatWeights()
    {
        if (_floatWeightsReleased)
            throw new GptSharpException("this model's float weights were released for int8 inference (Gpt.ReleaseFloatWeights): " +
                "it cannot train, be saved or run in another precision; reload it for that");
    }

    /// <summary>Keeps stored int8 weights for <paramref name="owner"/> (loading an int8 directory) instead of quantising its float weight.</summary>
    internal void KeepInt8(object owner, Int8Weight weight, Tensor? bias)
    {
        if (_int8.Remove(owner, out var old)) old.Dispose();
        _int8[owner] = Int8Linear.From(weight, bias);
    }

    /// <summary>Forgets this pass's casts; their tensors belong to the caller's dispose scope.</summary>
    internal void EndPass() => _pass.Clear();

    /// <summary>Drops the casts and int8 weights kept for inference; call after changing weights in place with autograd off.</summary>
    public void ForgetCasts()
    {
        ForgetFloatCasts();
        if (!_floatWeightsReleased) ForgetInt8(); // then they are the only weights left
    }

    void ForgetFloatCasts()
    {
        foreach (var t in _kept.Values) t.Dispose();
        _kept.Clear();
        _keptType = null;
    }

    void ForgetInt8()
    {
        foreach (var q in _int8.Values) q.Dispose();
        _int8.Clear();
    }
}
