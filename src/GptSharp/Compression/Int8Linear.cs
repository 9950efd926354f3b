using static TorchSharp.torch;

namespace GptSharp.Compression;

/// <summary>
/// A Linear layer ready for <see cref="Int8MatMul"/>: int8 values [out, in], and the per-output-channel scales and the
/// bias in the activations' dtype (bfloat16), as the kernel takes them.
/// </summary>
public sealed record Int8Linear(Tensor Values, Tensor Scale, Tensor? Bias) : IDisposable
{
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
            bias?.detach().to(Int8MatMul.ActivationType).DetachFromDisposeScope());
    }

    public long InFeatures => Values.shape[1];
    public long OutFeatures => Values.shape[0];

    public void Dispose()
    {
        Values.Dispose();
        Scale.Dispose();
        Bias?.Dispose();
    }
}
