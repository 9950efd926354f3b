using GptSharp.Inference.Kernels;
using GptSharp.Models;

namespace GptSharp.Tests.Inference.Kernels;

static class RowKernels
{
    /// <summary>
    /// Whether this machine runs the row kernels (at <paramref name="vectorBits"/>, 512 or 256; 0: at any width). Where it does not, what is checked instead is that nothing
    /// uses them: <see cref="RowDecoder.TryCreate"/> declines, and the onnx engine keeps every step in ONNX Runtime.
    /// </summary>
    public static bool Available(int vectorBits = 0)
    {
        if (vectorBits == 512 ? MatVec.Avx512 : vectorBits == 256 ? MatVec.Avx2 : MatVec.Width > 0) return true;
        if (vectorBits != 0 && MatVec.Width > 0)
        {
            // This CPU runs the kernels, at another width: asking for this one is refused.
            using var wide = Gpt.Create(new GptConfig { VocabSize = 64, BlockSize = 16, NLayer = 1, NHead = 4, NEmbd = 64 }, seed: 1);
            Assert.Throws<ArgumentOutOfRangeException>(() => RowDecoder.TryCreate(wide, 0, 1, vectorBits));
            return false;
        }
        using var model = Gpt.Create(new GptConfig { VocabSize = 64, BlockSize = 16, NLayer = 1, NHead = 4, NEmbd = 64 }, seed: 1);
        Assert.Null(RowDecoder.TryCreate(model, 0, 1));
        return false;
    }
}
