using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Models.Quantized;

/// <summary>Sets a float model up to infer in an <see cref="InferencePrecision"/>, as loading a model directory does.</summary>
public static class PrecisionSetup
{
    /// <summary>
    /// bf16: the whole module converted to bfloat16 (weights, LayerNorm, residual stream; after which the model only
    /// infers); int8: the int8 layers swapped in (<see cref="Int8WeightOnly.Quantize"/>, likewise inference only); fp32
    /// and auto change nothing. Mixed-precision training is another thing: fp32 weights with bf16 matmuls
    /// (<see cref="MatmulPrecision.ComputeType"/>).
    /// </summary>
    /// <remarks>
    /// A bf16 module decodes faster than bf16 matmuls over fp32 weights with their casts kept, and holds half the
    /// weight memory instead of one and a half: GPT-2 124M, greedy, 2 cores, 47.6–52.5 against 46.0–46.6 tokens/s for
    /// tg128 and the same prefill speed (2026-12-01).
    /// </remarks>
    public static void Apply(Gpt model, InferencePrecision precision)
    {
        switch (precision)
        {
            case InferencePrecision.Int8:
                Int8WeightOnly.Quantize(model);
                break;
            case InferencePrecision.BFloat16:
                Int8WeightOnly.RequireFloat(model, "infer in bf16");
                model.Precision.ComputeType = null;
                model.to(ScalarType.BFloat16);
                break;
            case InferencePrecision.Int4:
                throw new GptSharpException("int4 runs on the onnx decoding engine only (--engine onnx; it is the default for int4)");
            case InferencePrecision.Float32:
                Int8WeightOnly.RequireFloat(model, "infer in fp32");
                if (WeightType(model) != ScalarType.Float32)
                    throw new GptSharpException($"cannot infer in fp32: the model's weights are {WeightType(model)}; load the model directory again for that");
                model.Precision.ComputeType = null;
                break;
        }
    }

    /// <summary>The dtype of the model's (float) weights: float32 unless converted for bf16 inference.</summary>
    public static ScalarType WeightType(Gpt model) => model.parameters().First().dtype; // the module's own parameter: not disposed
}
