using static TorchSharp.torch;

namespace GptSharp.Models.Quantized;

/// <summary>A weight matrix as int8 values and one float32 scale per output channel: w ≈ q · scale.</summary>
public sealed record Int8Weight(Tensor Values, Tensor Scale) : IDisposable
{
    public void Dispose()
    {
        Values.Dispose();
        Scale.Dispose();
    }
}

/// <summary>
/// Weight-only symmetric int8 quantisation, one scale per output channel: scale = max|w_row| / 127 rounded to the
/// nearest bfloat16, q = round(w / scale) clamped to [-127, 127]. Per-channel scales keep a row with small weights from
/// losing all its precision to a row with large ones; symmetric (no zero point) because trained weights centre on zero.
/// Scales are bf16 values (stored as float32) because the int8 kernel takes them in the activations' bf16: so the
/// kernel multiplies by exactly the weights that dequantising gives.
/// </summary>
public static class Int8Weights
{
    public const int MaxLevel = 127;

    /// <summary>Quantises <paramref name="weight"/> ([out, …]): each slice along dimension 0 gets its own scale.</summary>
    public static Int8Weight Quantize(Tensor weight)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var w = weight.detach().to(ScalarType.Float32);
        var rows = w.reshape(w.shape[0], -1);
        Tensor scale;
        using (var magnitude = rows.abs()) scale = (magnitude.amax([1]) / MaxLevel).to(ScalarType.BFloat16).to(ScalarType.Float32);
        // An all-zero row quantises to zeros whatever its scale; 1 avoids dividing by zero.
        var safe = scale.masked_fill(scale == 0, 1.0);
        Tensor q;
        // One float temporary the size of the weight, not four: an LM head is 150 MB in fp32.
        using (var levels = rows / safe.unsqueeze(1))
            q = levels.round_().clamp_(-MaxLevel, MaxLevel).to(ScalarType.Int8).reshape(w.shape);
        return new Int8Weight(q.MoveToOuterDisposeScope(), scale.MoveToOuterDisposeScope());
    }

    /// <summary>The float32 weight q · scale, with the scale broadcast along dimension 0.</summary>
    public static Tensor Dequantize(Tensor values, Tensor scale)
    {
        using var scope = NewDisposeScope();
        var shape = new long[values.dim()];
        Array.Fill(shape, 1L);
        shape[0] = values.shape[0];
        return (values.to(ScalarType.Float32) * scale.to(ScalarType.Float32).reshape(shape)).MoveToOuterDisposeScope();
    }
}
