namespace GptSharp.Inference.Onnx;

/// <summary>How an ONNX export stores the weights of its linear layers.</summary>
public enum OnnxPrecision
{
    /// <summary>Every weight as float32; standard ONNX operators only, so any ONNX runtime runs it.</summary>
    Float32,
    Int8,
    Int4,
}

public static class OnnxPrecisionNames
{
    public const string Choices = "fp32, int8 or int4";

    public static OnnxPrecision Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "fp32" or "float32" => OnnxPrecision.Float32,
        "int8" => OnnxPrecision.Int8,
        "int4" => OnnxPrecision.Int4,
        _ => throw new GptSharpException($"unknown ONNX precision '{name}' (expected {Choices})"),
    };

    public static string Name(this OnnxPrecision precision) => precision switch
    {
        OnnxPrecision.Float32 => "fp32",
        OnnxPrecision.Int8 => "int8",
        _ => "int4",
    };
}
