namespace GptSharp.Models;

/// <summary>How a loaded model multiplies while inferring (<c>Checkpoints.LoadOptions.Precision</c>).</summary>
public enum InferencePrecision
{
    /// <summary>As loaded: int8 for a directory holding int8 weights, else fp32.</summary>
    Auto,
    Float32,
    /// <summary>The whole model converted to bfloat16 (<c>Models.Quantized.PrecisionSetup</c>); inference only.</summary>
    BFloat16,
    /// <summary>Weight-only int8 with bf16 activations: int8 layers swapped in (<c>Models.Quantized.Int8WeightOnly</c>); inference only.</summary>
    Int8,
    /// <summary>
    /// 4-bit weights in blocks of 32 with one scale each (as llama.cpp's q4_0) and int8 activations: ONNX Runtime's
    /// MatMulNBits, so only the onnx decoding engine runs it (<c>Checkpoints.DecodingEngineKind</c>); inference only.
    /// </summary>
    Int4,
}

public static class InferencePrecisionNames
{
    public const string Choices = "auto, fp32, bf16, int8 or int4";

    public static InferencePrecision Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "auto" => InferencePrecision.Auto,
        "fp32" or "float32" => InferencePrecision.Float32,
        "bf16" or "bfloat16" => InferencePrecision.BFloat16,
        "int8" => InferencePrecision.Int8,
        "int4" => InferencePrecision.Int4,
        _ => throw new GptSharpException($"unknown precision '{name}' (expected {Choices})"),
    };
}
