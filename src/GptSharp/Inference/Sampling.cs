using System.Numerics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Inference;

/// <summary>
/// Picks the next token from one position's logits. Filters are applied in Hugging Face's order:
/// temperature, then top-k, then top-p, then min-p, then one draw from what is left.
/// </summary>
public static class Sampling
{
    /// <summary>
    /// -∞ as one TorchSharp scalar for every masking call: a scalar made on the spot (double → Scalar) has a finalizer that
    /// can free it while libtorch still reads it (its handle is a bare IntPtr), which a garbage collection mid-call did
    /// under load in the server ("Expected false to be true" from Scalar::toFloat).
    /// </summary>
    internal static readonly Scalar MinusInfinity = double.NegativeInfinity.ToScalar();

    /// <summary>
    /// The next token id for <paramref name="logits"/> ([vocab]); <paramref name="rng"/> makes draws repeatable. Float32
    /// logits in CPU memory are read in place (<see cref="TryArgmax"/>, <see cref="InPlaceSampling"/>); others (a GPU,
    /// bf16) go through libtorch's operators below, which filter to the same tokens (their draws differ).
    /// </summary>
    public static long NextToken(Tensor logits, GenerationOptions options, torch.Generator? rng = null)
    {
        using var scope = NewDisposeScope();
        if (options.IsGreedy) return TryArgmax(logits, out int best) ? best : logits.argmax().item<long>();
        if (InPlaceSampling.TryNextToken(logits, options, rng, out int drawn)) return drawn;

        // bf16 logits are too coarse for a softmax over 50k tokens: sample in fp32.
        using var temperature = options.Temperature.ToScalar(); // kept alive across the call (see MinusInfinity)
        var scaled = logits.to(ScalarType.Float32) / temperature;
        if (options.TopK > 0) scaled = KeepTopK(scaled, options.TopK);
        if (options.TopP < 1) scaled = KeepTopP(scaled, options.TopP);
        if (options.MinP > 0) scaled = KeepMinP(scaled, options.MinP);
        return multinomial(scaled.softmax(-1), 1, generator: rng).item<long>();
    }

    /// <summary>
    /// torch.argmax of float32 logits ([vocab]) in CPU memory, read in place without a libtorch call: the first of equal
    /// maxima, or the first NaN. False for logits elsewhere (another device, type or layout), which torch then handles.
    /// Greedy decoding at batch 8 spent ~0.6 ms a step (of ~13) in libtorch's scalar argmax and the UTF-8 mask over
    /// GPT-2's 50,257 logits per row.
    /// </summary>
    public static bool TryArgmax(Tensor logits, out int id)
    {
        id = -1;
        if (!TryReadInPlace(logits, out var x)) return false;
        float max = TensorPrimitives.Max(x); // NaN when any is
        id = float.IsNaN(max) ? x.IndexOf(float.NaN) : FirstEqual(x, max);
        return true;
    }

    /// <summary>The logits' own memory, when they are one row of float32, contiguous on the CPU.</summary>
    internal static bool TryReadInPlace(Tensor logits, out ReadOnlySpan<float> values)
    {
        bool readable = logits.device_type == DeviceType.CPU && logits.dtype == ScalarType.Float32 && logits.dim() == 1
                        && logits.numel() > 0 && logits.is_contiguous();
        values = readable ? MemoryMarshal.Cast<byte, float>(logits.bytes) : default;
        return readable;
    }

    /// <summary>The first index whose value equals <paramref name="value"/> (numerically: -0 equals +0), which is present.</summary>
    static int FirstEqual(ReadOnlySpan<float> x, float value)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var target = new Vector<float>(value);
            var vectors = MemoryMarshal.Cast<float, Vector<float>>(x);
            for (; i < vectors.Length; i++)
                if (Vector.EqualsAny(vectors[i], target)) break;
            i *= Vector<float>.Count;
        }
        while (x[i] != value) i++;
        return i;
    }

    /// <summary>The logits with everything below the k-th largest set to -∞ (ties with the k-th are kept).</summary>
    public static Tensor KeepTopK(Tensor logits, int k)
    {
        if (k >= logits.shape[^1]) return logits.alias();
        var kth = logits.topk(k).values.narrow(-1, k - 1, 1); // the smallest value that survives, kept as a dimension
        return logits.masked_fill(logits < kth, MinusInfinity);
    }

    /// <summary>The logits with every token less likely than <paramref name="p"/> times the most likely one set to -∞.</summary>
    public static Tensor KeepMinP(Tensor logits, double p)
    {
        var probs = logits.softmax(-1);
        using var scale = p.ToScalar();
        var threshold = probs.max(-1, keepdim: true).values * scale;
        return logits.masked_fill(probs < threshold, MinusInfinity);
    }

    /// <summary>
    /// The logits with everything outside the nucleus set to -∞: the smallest set of most likely tokens whose
    /// probabilities add up to at least <paramref name="p"/>. The most likely token always stays.
    /// </summary>
    public static Tensor KeepTopP(Tensor logits, double p)
    {
        var (sorted, order) = logits.sort(-1, descending: true);
        var probs = sorted.softmax(-1);
        // A token is dropped when the tokens ranked above it already reach p without it.
        var massBefore = probs.cumsum(-1) - probs;
        using var mass = p.ToScalar();
        var dropSorted = massBefore >= mass;
        var drop = dropSorted.scatter(-1, order, dropSorted); // back to vocabulary order
        return logits.masked_fill(drop, MinusInfinity);
    }
}
