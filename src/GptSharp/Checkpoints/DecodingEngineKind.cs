using GptSharp.Models;

namespace GptSharp.Checkpoints;

/// <summary>What decodes a loaded model (<see cref="LoadOptions.Engine"/>): its TorchSharp modules, or ONNX Runtime
/// running the graph built from them (<see cref="Inference.Onnx.OnnxRuntimeEngine"/>, CPU only).</summary>
public enum DecodingEngineKind
{
    /// <summary>onnx for int4 (only it runs 4-bit weights), else torch.</summary>
    Auto,
    Torch,
    OnnxRuntime,
}

public static class DecodingEngineNames
{
    public const string Choices = "auto, torch or onnx";

    public static DecodingEngineKind Parse(string name) => name.Trim().ToLowerInvariant() switch
    {
        "auto" => DecodingEngineKind.Auto,
        "torch" or "torchsharp" => DecodingEngineKind.Torch,
        "onnx" or "onnxruntime" or "ort" => DecodingEngineKind.OnnxRuntime,
        _ => throw new GptSharpException($"unknown engine '{name}' (expected {Choices})"),
    };

    /// <summary>The engine <paramref name="kind"/> resolves to for <paramref name="precision"/>; an impossible pair is an error.</summary>
    public static DecodingEngineKind Resolve(DecodingEngineKind kind, InferencePrecision precision) => (kind, precision) switch
    {
        (DecodingEngineKind.Torch, InferencePrecision.Int4) => throw new GptSharpException("int4 runs on the onnx engine only: use --engine onnx (or auto)"),
        (DecodingEngineKind.Auto, InferencePrecision.Int4) => DecodingEngineKind.OnnxRuntime,
        (DecodingEngineKind.Auto, _) => DecodingEngineKind.Torch,
        _ => kind,
    };
}
