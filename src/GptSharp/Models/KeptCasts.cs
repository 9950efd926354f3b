using static TorchSharp.torch;

namespace GptSharp.Models;

/// <summary>
/// One layer's weight and bias in the compute dtype, kept across inference passes (<see cref="MatmulPrecision"/>):
/// each float layer owns one, so a kept cast is found by a field, not looked up.
/// </summary>
public sealed class KeptCasts
{
    Tensor? _weight, _bias;

    internal KeptCasts() { }

    internal bool Any => _weight is not null || _bias is not null;

    /// <summary><paramref name="weight"/> in <paramref name="type"/>, cast on first use and kept.</summary>
    internal Tensor Weight(Tensor weight, ScalarType type) => Kept(ref _weight, weight, type);

    internal Tensor Bias(Tensor bias, ScalarType type) => Kept(ref _bias, bias, type);

    static Tensor Kept(ref Tensor? kept, Tensor w, ScalarType type)
    {
        if (kept is null || kept.dtype != type)
        {
            kept?.Dispose();
            using var detached = w.detach();
            kept = detached.to(type).DetachFromDisposeScope();
        }
        return kept;
    }

    internal void Forget()
    {
        _weight?.Dispose();
        _bias?.Dispose();
        (_weight, _bias) = (null, null);
    }
}
