using GptSharp.Inference.Onnx;

namespace GptSharp.Checkpoints.Onnx;

/// <summary>What <see cref="OnnxExport"/> wrote: the directory, its files, and the model's and weights' sizes.</summary>
public sealed record OnnxExportResult(string Directory, OnnxPrecision Precision, IReadOnlyList<string> Files, long ModelBytes, long DataBytes);
