namespace GptSharp.Inference.Onnx;

/// <summary>How an ONNX export stores the weights of its linear layers.</summary>
public enum OnnxPrecision
{
    /// <summary>Every weight as float32; standard ONNX operators only, so any ONNX runtime runs it.</summary>
    Float32,
    /// <summary>
    /// The engine only: weights rounded to bfloat16 values. ONNX Runtime's CPU has no bf16 MatMul, so its graph holds those
    /// values as float32; the row kernels (<see cref="Kernels.RowDecoder"/>) stream them as 16 bits, half fp32's bytes.
    /// </summary>
    BFloat16,
    Int8,
    Int4,
}

public static class OnnxPrecisionNames
{
    /// <summary>What an export writes (the engine also runs <see cref="OnnxPrecision.BFloat16"/>).</summary>
    public const string Choices = "fp32, int8 or int4";

    public static OnnxPrecision Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "fp32" or "float32" => OnnxPrecision.Float32,
        "bf16" or "bfloat16" => OnnxPrecision.BFloat16,
        "int8" => OnnxPrecision.Int8,
        "int4" => OnnxPrecision.Int4,
        _ => throw new GptSharpException($"unknown ONNX precision '{name}' (expected {Choices})"),
    };

    public static string Name(this OnnxPrecision precision) => precision switch
    {
        OnnxPrecision.Float32 => "fp32",
        OnnxPrecision.BFloat16 => "bf16",
        OnnxPrecision.Int8 => "int8",
        _ => "int4",
    };

    /// <summary>Whether the graph's linear weights are float tensors (fp32 and bf16 values) rather than <c>MatMulNBits</c> blocks.</summary>
    public static bool IsFloat(this OnnxPrecision precision) => precision is OnnxPrecision.Float32 or OnnxPrecision.BFloat16;
}
