using GptSharp.Inference.Kernels;
using GptSharp.Models;

namespace GptSharp.Tests.Inference.Kernels;

static class RowKernels
{
    /// <summary>
    /// Whether this machine runs the row kernels (AVX-512). Where it does not, what is checked instead is that nothing
    /// uses them: <see cref="RowDecoder.TryCreate"/> declines, and the onnx engine keeps every step in ONNX Runtime.
    /// </summary>
    public static bool Available()
    {
        if (MatVec.IsSupported) return true;
        using var model = Gpt.Create(new GptConfig { VocabSize = 64, BlockSize = 16, NLayer = 1, NHead = 4, NEmbd = 64 }, seed: 1);
        Assert.Null(RowDecoder.TryCreate(model, 0, 1));
        return false;
    }
}
