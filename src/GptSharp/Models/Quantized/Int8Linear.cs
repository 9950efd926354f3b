using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Models.Quantized;

/// <summary>
/// A Linear layer ready for <see cref="Int8MatMul"/>: int8 values [out, in], and the per-output-channel scales and the
/// bias in the activations' dtype (bfloat16), as the kernel takes them. Checked once here, so the per-token path
/// need not ask again.
/// </summary>
public sealed class Int8Linear : IDisposable
{
    public Tensor Values { get; }
    public Tensor Scale { get; }
    public Tensor? Bias { get; }
    public long InFeatures { get; }
    public long OutFeatures { get; }
    internal bool OnCpu { get; }

    /// <param name="values">int8 [out, in], contiguous.</param>
    /// <param name="scale">bf16 [out], contiguous.</param>
    /// <param name="bias">bf16 [out], or null.</param>
    public Int8Linear(Tensor values, Tensor scale, Tensor? bias)
    {
        if (values.dtype != ScalarType.Int8 || values.dim() != 2 || !values.is_contiguous())
            throw new ArgumentException($"int8 weights must be contiguous Int8 [out, in] (got {values.dtype} [{string.Join(", ", values.shape)}])");
        (OutFeatures, InFeatures) = (values.shape[0], values.shape[1]);
        foreach (var (name, t) in new[] { ("scale", scale), ("bias", bias) })
            if (t is not null && (t.dtype != Int8MatMul.ActivationType || !t.shape.SequenceEqual([OutFeatures]) || !t.is_contiguous() || t.device_type != values.device_type || t.device_index != values.device_index))
                throw new ArgumentException($"int8 {name} must be contiguous {Int8MatMul.ActivationType} [{OutFeatures}] beside the weights " +
                    $"(got {t.dtype} [{string.Join(", ", t.shape)}] on {t.device})");
        (Values, Scale, Bias) = (values, scale, bias);
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
            bias?.detach().to(Int8MatMul.ActivationType).contiguous().DetachFromDisposeScope());
    }

    public void Dispose()
    {
        Values.Dispose();
        Scale.Dispose();
        Bias?.Dispose();
    }
}
