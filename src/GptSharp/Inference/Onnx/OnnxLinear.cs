using System.Runtime.InteropServices;
using static GptSharp.Inference.Onnx.OnnxGraphBuilder;
using GptSharp.Models.Quantized;
using static TorchSharp.torch;

namespace GptSharp.Inference.Onnx;

/// <summary>
/// A linear layer y = x·Wᵀ + b in the graph: MatMul with the transposed float weight, or, quantised, ONNX Runtime's
/// <c>MatMulNBits</c> (com.microsoft): the weight as stored by nn.Linear ([out, in] = [N, K]), in blocks of
/// <see cref="BlockSize"/> weights along K with one float scale each and the default zero point 2^(bits-1)
/// (symmetric, as llama.cpp's q4_0 / q8_0), packed low nibble first for 4 bits.
/// </summary>
sealed class OnnxLinear(OnnxGraphBuilder g, OnnxPrecision precision)
{
    public const string MicrosoftDomain = "com.microsoft";
    public const int BlockSize = BlockQuantization.BlockSize;
    /// <summary>
    /// MatMulNBits' accuracy_level 4: activations quantised to int8 per block for an integer dot product (as llama.cpp's
    /// q8_0 / q4_0 kernels do). The default (0, float activations) dequantises the weights on every call: GPT-2 124M,
    /// 2 threads, int8 decoded 10 tokens/s that way against 85 with level 4 (2026-12-07).
    /// </summary>
    public const long AccuracyLevel = 4;

    public string Apply(string x, string name, Tensor weight, Tensor bias) =>
        g.Node("Add", [Product(x, name, weight), GptOnnxGraph.Float(g, name + ".bias", bias)]);

    /// <summary>x·Wᵀ alone, for a graph that adds the bias inside the next fused operator.</summary>
    public string Product(string x, string name, Tensor weight)
    {
        if (precision.IsFloat())
        {
            using var t = weight.detach().t();
            return g.Node("MatMul", [x, GptOnnxGraph.Float(g, name + ".weight", t)]);
        }
        int bits = precision == OnnxPrecision.Int8 ? 8 : 4;
        var (packed, scales) = BlockQuantization.Quantize(weight, bits);
        using (packed)
        using (scales)
        {
            long n = scales.shape[0], blocks = scales.shape[1], k = weight.shape[1];
            var q = g.Bytes(name + ".weight.q" + bits, packed.bytes, n, blocks, BlockSize * bits / 8);
            var s = g.Float(name + ".weight.scales", MemoryMarshal.Cast<byte, float>(scales.bytes), n * blocks);
            return g.Node("MatMulNBits", [x, q, s], 1, MicrosoftDomain,
                          Attribute("K", k), Attribute("N", n), Attribute("bits", (long)bits), Attribute("block_size", (long)BlockSize),
                          Attribute("accuracy_level", AccuracyLevel))[0];
        }
    }
}
