using GptSharp.Models;

namespace GptSharp.Checkpoints;

/// <summary>What decodes a loaded model (<see cref="LoadOptions.Engine"/>): its TorchSharp modules, or ONNX Runtime
/// running the graph built from them (<see cref="Inference.Onnx.OnnxRuntimeEngine"/>, CPU only).</summary>
public enum DecodingEngineKind
{
    /// <summary>
    /// fp32 on the CPU: the onnx engine, which decodes a single sequence about twice as fast as TorchSharp, for a model
    /// it runs (head size a multiple of 8); int4: the onnx engine, the only one that runs it; otherwise torch. bf16 and
    /// int8 stay on torch because its modules hold the smaller weights the precision was asked for, where the onnx
    /// engine keeps a float copy beside its own (`--engine onnx` is 2–3× faster there too, at several times the memory).
    /// </summary>
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

    /// <summary>
    /// The engine <paramref name="kind"/> resolves to for <paramref name="precision"/> (Auto: fp32 unless the directory
    /// holds quantised weights), where <paramref name="onnxRuns"/> says whether the onnx engine can run the model (on the
    /// CPU, head size a multiple of 8); an impossible pair is an error. Auto and int4 is the onnx engine even where it
    /// cannot run, so that its own error says why.
    /// </summary>
    public static DecodingEngineKind Resolve(DecodingEngineKind kind, InferencePrecision precision, bool onnxRuns = true) => (kind, precision) switch
    {
        (DecodingEngineKind.Torch, InferencePrecision.Int4) => throw new GptSharpException("int4 runs on the onnx engine only: use --engine onnx (or auto)"),
        (DecodingEngineKind.Auto, InferencePrecision.Int4) => DecodingEngineKind.OnnxRuntime,
        (DecodingEngineKind.Auto, InferencePrecision.Float32 or InferencePrecision.Auto) when onnxRuns => DecodingEngineKind.OnnxRuntime,
        (DecodingEngineKind.Auto, _) => DecodingEngineKind.Torch,
        _ => kind,
    };
}
