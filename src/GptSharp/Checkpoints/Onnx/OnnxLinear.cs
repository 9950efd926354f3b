using static GptSharp.Checkpoints.Onnx.OnnxGraphBuilder;
using static TorchSharp.torch;

namespace GptSharp.Checkpoints.Onnx;

/// <summary>
/// A linear layer y = x·Wᵀ + b in the graph: MatMul with the transposed float weight, or, quantised, ONNX Runtime's
/// <c>MatMulNBits</c> (com.microsoft): the weight as stored by nn.Linear ([out, in] = [N, K]), in blocks of
/// <see cref="BlockSize"/> weights along K with one float scale each and the default zero point 2^(bits-1)
/// (symmetric, as llama.cpp's q4_0 / q8_0), packed low nibble first for 4 bits.
/// </summary>
sealed class OnnxLinear(OnnxGraphBuilder g, OnnxPrecision precision)
{
    public const string MicrosoftDomain = "com.microsoft";
    public const int BlockSize = 32;

    public string Apply(string x, string name, Tensor weight, Tensor bias)
    {
        var b = GptOnnxGraph.Float(g, name + ".bias", bias);
        if (precision == OnnxPrecision.Float32)
        {
            using var t = weight.detach().t();
            return g.Node("Add", [g.Node("MatMul", [x, GptOnnxGraph.Float(g, name + ".weight", t)]), b]);
        }
        int bits = precision == OnnxPrecision.Int8 ? 8 : 4;
        using var w = weight.detach().to(ScalarType.Float32).cpu().contiguous();
        int n = (int)w.shape[0], k = (int)w.shape[1];
        var (packed, scales, blocks) = Quantize(w.data<float>().ToArray(), n, k, bits);
        int blob = BlockSize * bits / 8;
        var q = g.Bytes(name + ".weight.q" + bits, packed, n, blocks, blob);
        var s = g.Float(name + ".weight.scales", scales, (long)n * blocks);
        var y = g.Node("MatMulNBits", [x, q, s], 1, MicrosoftDomain,
                       Attribute("K", (long)k), Attribute("N", (long)n), Attribute("bits", (long)bits), Attribute("block_size", (long)BlockSize))[0];
        return g.Node("Add", [y, b]);
    }

    /// <summary>
    /// Symmetric block quantisation of a row-major [n, k] weight: per block scale = -w_extreme / 2^(bits-1) (w_extreme
    /// the weight of largest magnitude, sign kept), stored value round(w / scale) + 2^(bits-1), clamped to the bits'
    /// range. A last partial block is padded with zeros.
    /// </summary>
    public static (byte[] Packed, float[] Scales, int Blocks) Quantize(float[] w, int n, int k, int bits)
    {
        int blocks = (k + BlockSize - 1) / BlockSize, blob = BlockSize * bits / 8, zero = 1 << (bits - 1);
        var packed = new byte[(long)n * blocks * blob];
        var scales = new float[n * blocks];
        for (int row = 0; row < n; row++)
            for (int block = 0; block < blocks; block++)
            {
                int start = block * BlockSize, end = Math.Min(k, start + BlockSize);
                // As q4_0: the weight of largest magnitude maps to -2^(bits-1) exactly, so all 2^bits levels are used.
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
}
