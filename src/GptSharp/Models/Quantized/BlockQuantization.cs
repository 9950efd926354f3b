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
        Check(bits);
        int blocks = (k + BlockSize - 1) / BlockSize, blob = BlockSize * bits / 8, zero = 1 << (bits - 1);
        var packed = new byte[(long)n * blocks * blob];
        var scales = new float[n * blocks];
        for (int row = 0; row < n; row++)
            for (int block = 0; block < blocks; block++)
            {
                int start = block * BlockSize, end = Math.Min(k, start + BlockSize);
                float extreme = 0;
                for (int i = start; i < end; i++)
                    if (Math.Abs(w[(long)row * k + i]) > Math.Abs(extreme)) extreme = w[(long)row * k + i];
                float scale = extreme / -zero;
                scales[row * blocks + block] = scale;
                long at = ((long)row * blocks + block) * blob;
                for (int i = 0; i < BlockSize; i++)
                {
                    float v = start + i < end ? w[(long)row * k + start + i] : 0f;
                    int q = scale == 0 ? zero : Math.Clamp((int)MathF.Round(v / scale) + zero, 0, 2 * zero - 1);
                    if (bits == 8) packed[at + i] = (byte)q;
                    else packed[at + i / 2] |= (byte)(i % 2 == 0 ? q : q << 4);
                }
            }
        return (packed, scales, blocks);
    }

    /// <summary>The weights <see cref="Quantize"/>'s output stands for, [n, k] row-major.</summary>
    public static float[] Dequantize(byte[] packed, float[] scales, int n, int k, int bits)
    {
        Check(bits);
        int blocks = (k + BlockSize - 1) / BlockSize, blob = BlockSize * bits / 8, zero = 1 << (bits - 1);
        var w = new float[(long)n * k];
        for (int row = 0; row < n; row++)
            for (int block = 0; block < blocks; block++)
            {
                float scale = scales[row * blocks + block];
                long at = ((long)row * blocks + block) * blob;
                for (int i = 0, start = block * BlockSize; i < BlockSize && start + i < k; i++)
                {
                    int q = bits == 8 ? packed[at + i] : (packed[at + i / 2] >> (i % 2 == 0 ? 0 : 4)) & 0xF;
                    w[(long)row * k + start + i] = (q - zero) * scale;
                }
            }
        return w;
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
        int n = (int)p.shape[0], k = (int)p.shape[1];
        using var cpu = p.detach().to(ScalarType.Float32).cpu().contiguous();
        var (packed, scales, _) = Quantize(cpu.data<float>().ToArray(), n, k, bits);
        using var back = tensor(Dequantize(packed, scales, n, k, bits), [n, k], ScalarType.Float32);
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
