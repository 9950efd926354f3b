using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Models.Quantized;

/// <summary>
/// A Linear layer with weight-only int8 weights, put where an <c>nn.Linear</c> was by
/// <see cref="Int8WeightOnly.Quantize"/> or built from a stored int8 directory: int8 values [out, in], and the
/// per-output-channel scales and the bias in the activations' dtype (bfloat16), as <see cref="Int8MatMul"/> takes them.
/// Checked once here, so the per-token path need not ask again. It has no float weight, so it only infers: a forward
/// pass with autograd on (training) is a <see cref="GptSharpException"/>.
/// </summary>
public sealed class Int8Linear : nn.Module<Tensor, Tensor>
{
    // Field names are the buffer names: TorchSharp moves buffers between devices by updating the field of that name.
    Tensor qweight, scale;
    Tensor? bias, bias_float32;

    /// <summary>int8 [out, in].</summary>
    public Tensor Values => qweight;
    /// <summary>bf16 [out]: w ≈ <see cref="Values"/> · scale.</summary>
    public Tensor Scale => scale;
    /// <summary>bf16 [out], or null.</summary>
    public Tensor? Bias => bias;
    /// <summary>The bias as it was given in float32 (what an int8 checkpoint stores), or null.</summary>
    public Tensor? FloatBias => bias_float32 ?? bias;
    public long InFeatures { get; }
    public long OutFeatures { get; }
    /// <summary>Where the weights are, asked once (and again when the module moves) rather than on every call.</summary>
    internal bool OnCpu { get; private set; }

    /// <param name="values">int8 [out, in], contiguous.</param>
    /// <param name="scale">bf16 [out], contiguous.</param>
    /// <param name="bias">bf16 [out], or null.</param>
    /// <param name="floatBias">The float32 bias <paramref name="bias"/> was rounded from, kept for saving; null when there is none.</param>
    public Int8Linear(Tensor values, Tensor scale, Tensor? bias, Tensor? floatBias = null) : base(nameof(Int8Linear))
    {
        if (values.dtype != ScalarType.Int8 || values.dim() != 2 || !values.is_contiguous())
            throw new ArgumentException($"int8 weights must be contiguous Int8 [out, in] (got {values.dtype} [{string.Join(", ", values.shape)}])");
        (OutFeatures, InFeatures) = (values.shape[0], values.shape[1]);
        foreach (var (name, t) in new[] { ("scale", scale), ("bias", bias) })
            if (t is not null && (t.dtype != Int8MatMul.ActivationType || !t.shape.SequenceEqual([OutFeatures]) || !t.is_contiguous() || t.device_type != values.device_type || t.device_index != values.device_index))
                throw new ArgumentException($"int8 {name} must be contiguous {Int8MatMul.ActivationType} [{OutFeatures}] beside the weights " +
                    $"(got {t.dtype} [{string.Join(", ", t.shape)}] on {t.device})");
        (qweight, this.scale, this.bias, bias_float32) = (values, scale, bias, floatBias);
        RegisterComponents(); // the non-null tensor fields become buffers, under their field names
        OnCpu = values.device_type == DeviceType.CPU;
    }

    /// <summary>
    /// From quantised weights (<see cref="Int8Weights.Quantize"/> or a stored int8 file) and a float bias. The result
    /// owns its own handles (sharing the int8 storage) outside any dispose scope: it lives as long as the caller keeps it.
    /// </summary>
    public static Int8Linear From(Int8Weight weight, Tensor? bias)
    {
        using var _ = no_grad();
        var values = weight.Values.is_contiguous() ? weight.Values.alias() : weight.Values.contiguous();
        return new Int8Linear(values.DetachFromDisposeScope(),
            weight.Scale.to(Int8MatMul.ActivationType).contiguous().DetachFromDisposeScope(),
            bias?.detach().to(Int8MatMul.ActivationType).contiguous().DetachFromDisposeScope(),
            bias?.detach().to(ScalarType.Float32, copy: true).DetachFromDisposeScope());
    }

    /// <summary>The weights as an int8 checkpoint stores them: values and float32 scales (new handles the caller disposes).</summary>
    public Int8Weight ToInt8Weight() => new(qweight.alias(), scale.to(ScalarType.Float32));

    protected override void _toEpilog(ScalarType? dtype, Device? device, bool non_blocking)
    {
        base._toEpilog(dtype, device, non_blocking);
        OnCpu = qweight.device_type == DeviceType.CPU;
    }

    /// <summary>x [..., in] → [..., out] in bfloat16.</summary>
    public override Tensor forward(Tensor x)
    {
        if (is_grad_enabled()) throw Int8WeightOnly.InferenceOnly();
        return Int8MatMul.Linear(x, this);
    }
}
