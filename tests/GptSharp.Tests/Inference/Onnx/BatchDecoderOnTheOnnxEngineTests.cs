using GptSharp.Inference.Onnx;
using GptSharp.Tests.Inference;

namespace GptSharp.Tests.Inference.Onnx;

/// <summary>
/// Every <see cref="BatchDecoderTests"/> case again with the model on the onnx engine: continuous batching (sequences of
/// different lengths joining, leaving, prefilling in chunks, reusing a conversation's cache) runs on its slots.
/// </summary>
public sealed class BatchDecoderOnTheOnnxEngineTests : BatchDecoderTests
{
    public BatchDecoderOnTheOnnxEngineTests() => _model.Engine = OnnxRuntimeEngine.Create(_model);
}
