using static TorchSharp.torch;

namespace GptSharp.Models.Quantized;

/// <summary>
/// Symmetric block quantisation, as llama.cpp's q4_0 / q8_0 and ONNX Runtime's <c>MatMulNBits</c> store weights: a
/// row-major [n, k] weight in blocks of <see cref="BlockSize"/> along k, one float scale per block, stored value
/// round(w / scale) + 2^(bits-1) (the default zero point), clamped to the bits' range; 4 bits packed low nibble first.
/// Per block, scale = -w_extreme / 2^(bits-1) with w_extreme the weight of largest magnitude, sign kept, so it maps to
/// level 0 exactly and all 2^bits levels are used. Quantising a dequantised weight again gives the same bytes: a
/// 4-bit directory can hold its weights dequantised and still run the very same 4-bit numbers.
/// </summary>
public static class BlockQuantization
{
    public const int BlockSize = 32;

    /// <summary>The packed levels ([n, blocks, BlockSize·bits/8] bytes) and scales ([n, blocks]); a last partial block is padded with zeros.</summary>
    public static (byte[] Packed, float[] Scales, int Blocks) Quantize(float[] w, int n, int k, int bits)
    {
        using var t = tensor(w, [n, k], ScalarType.Float32);
        var (packed, scales) = Quantize(t, bits);
        using (packed)
        using (scales)
            return (packed.data<byte>().ToArray(), scales.data<float>().ToArray(), (int)scales.shape[1]);
    }

    /// <summary>
    /// <see cref="Quantize(float[], int, int, int)"/> on a [n, k] tensor, with tensor operations (a GPT-2 124M quantises
    /// in a fraction of a second): packed [n, blocks·BlockSize·bits/8] bytes and scales [n, blocks] float32, on the CPU.
    /// </summary>
    public static (Tensor Packed, Tensor Scales) Quantize(Tensor w, int bits)
    {
        Check(bits);
        using var scope = NewDisposeScope();
        int n = (int)w.shape[0], k = (int)w.shape[1], blocks = (k + BlockSize - 1) / BlockSize, zero = 1 << (bits - 1);
        var x = w.detach().to(ScalarType.Float32).cpu();
        if (blocks * BlockSize != k) x = nn.functional.pad(x, [0, blocks * BlockSize - k]);
        x = x.reshape(n, blocks, BlockSize);
        // The first weight of largest magnitude, sign kept (argmax returns the first of ties).
        var scale = x.gather(-1, x.abs().argmax(-1, keepdim: true)).div_(-zero);
        // Round half to even, as MathF.Round; an all-zero block (scale 0) stores the zero point.
        var q = x.div(scale).round_().add_(zero).clamp_(0, 2 * zero - 1).masked_fill_(scale.eq(0), zero).to(ScalarType.Byte);
        if (bits == 4)
        {
            var pairs = q.reshape(n, blocks, BlockSize / 2, 2);
            q = pairs.select(-1, 0).bitwise_or(pairs.select(-1, 1).bitwise_left_shift(4));
        }
        return (q.reshape(n, -1).contiguous().MoveToOuterDisposeScope(), scale.reshape(n, blocks).contiguous().MoveToOuterDisposeScope());
    }

    /// <summary>The weights <see cref="Quantize(float[], int, int, int)"/> stored: (level − 2^(bits-1)) · scale, [n, k].</summary>
    public static float[] Dequantize(byte[] packed, float[] scales, int n, int k, int bits)
    {
        int blocks = (k + BlockSize - 1) / BlockSize;
        using var p = tensor(packed, [n, packed.Length / n], ScalarType.Byte);
        using var s = tensor(scales, [n, blocks], ScalarType.Float32);
        using var w = Dequantize(p, s, k, bits);
        return w.data<float>().ToArray();
    }

    /// <summary><see cref="Dequantize(byte[], float[], int, int, int)"/> on tensors: packed [n, blocks·blob] bytes, scales [n, blocks] → [n, k] float32.</summary>
    public static Tensor Dequantize(Tensor packed, Tensor scales, int k, int bits)
    {
        Check(bits);
        using var scope = NewDisposeScope();
        int n = (int)scales.shape[0], blocks = (int)scales.shape[1], zero = 1 << (bits - 1);
        var q = packed.reshape(n, blocks, -1);
        if (bits == 4) q = stack([q.bitwise_and(0xF), q.bitwise_right_shift(4)], -1).reshape(n, blocks, BlockSize);
        var w = q.to(ScalarType.Float32).sub_(zero).mul_(scales.unsqueeze(-1)).reshape(n, blocks * BlockSize);
        if (blocks * BlockSize != k) w = w.narrow(1, 0, k);
        return w.contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Replaces each block's linear weights (attention and MLP) with their <paramref name="bits"/>-bit quantised-then-
    /// dequantised values, and the token embedding, which is also the LM head, with its 8-bit ones (the onnx engine's
    /// head is 8-bit at any quantised precision; the position embedding stays float): the float model then computes
    /// with the engine's weights, so its losses measure what the engine's quantisation costs.
    /// </summary>
    public static void RoundTrip(Gpt model, int bits)
    {
        Check(bits);
        Int8WeightOnly.RequireFloat(model, $"round its weights to {bits} bits");
        using var _ = no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            if (name == TokenEmbedding) RoundTrip(p, 8);
            else if (IsBlockLinear(name)) RoundTrip(p, bits);
        }
    }

    /// <summary>The tied token embedding / LM head weight, [vocab, n_embd].</summary>
    public const string TokenEmbedding = "wte.weight";

    static void RoundTrip(TorchSharp.Modules.Parameter p, int bits)
    {
        var (packed, scales) = Quantize(p, bits);
        using (packed)
        using (scales)
        using (var back = Dequantize(packed, scales, (int)p.shape[1], bits))
            p.copy_(back);
    }

    /// <summary>A block's linear weight (h.N.attn.c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj), [out, in] as nn.Linear holds it.</summary>
    public static bool IsBlockLinear(string name) =>
        name.StartsWith("h.") && name.EndsWith(".weight") && (name.Contains(".attn.c_") || name.Contains(".mlp.c_"));

    static void Check(int bits)
    {
        if (bits is not (4 or 8)) throw new ArgumentOutOfRangeException(nameof(bits), bits, "4 or 8 bits");
    }
}
