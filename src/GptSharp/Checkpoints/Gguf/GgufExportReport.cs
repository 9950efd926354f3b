namespace GptSharp.Checkpoints.Gguf;

/// <summary>What <see cref="GgufExport.Export"/> wrote.</summary>
public sealed record GgufExportReport(
    string Path, GgufExportType Type, long Bytes, int Tensors, int QuantizedTensors, int VocabularySize, bool ChatTemplate);
