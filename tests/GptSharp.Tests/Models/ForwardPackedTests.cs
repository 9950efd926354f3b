using GptSharp.Models;
using static TorchSharp.torch;

namespace GptSharp.Tests.Models;

/// <summary><see cref="Gpt.ForwardPacked"/>: sequences at different positions in one pass give what each gives alone.</summary>
public class ForwardPackedTests
{
    [Fact]
    public void PackedSequencesMatchTheirOwnForwardPasses()
    {
        using var m = Gpt.Create(new GptConfig { VocabSize = 100, BlockSize = 32, NLayer = 2, NHead = 2, NEmbd = 16 }, 3);
        m.eval();
        using var noGrad = no_grad();
        int[][] pasts = [[1, 2, 3, 4, 5], [], [9, 8]];
        int[][] fresh = [[6], [7, 7, 7], [1, 2, 3, 4]];
        var packedCaches = pasts.Select(_ => new KvCache(2, 32)).ToArray();
        var aloneCaches = pasts.Select(_ => new KvCache(2, 32)).ToArray();
        try
        {
            for (int i = 0; i < pasts.Length; i++)
            {
                if (pasts[i].Length == 0) continue;
                using var a = m.Forward(tensor(pasts[i].Select(t => (long)t).ToArray(), [1, pasts[i].Length]), packedCaches[i]);
                using var b = m.Forward(tensor(pasts[i].Select(t => (long)t).ToArray(), [1, pasts[i].Length]), aloneCaches[i]);
            }
            using var packed = m.ForwardPacked(fresh, packedCaches);
            Assert.Equal([3L, 100L], packed.shape);
            for (int i = 0; i < fresh.Length; i++)
            {
                using var alone = m.Forward(tensor(fresh[i].Select(t => (long)t).ToArray(), [1, fresh[i].Length]), aloneCaches[i], lastPositionOnly: true);
                Assert.True(allclose(packed[i], alone[0, -1], rtol: 1e-4, atol: 1e-5), $"sequence {i}");
                Assert.Equal(aloneCaches[i].Length, packedCaches[i].Length);
            }
            var e = Assert.Throws<GptSharpException>(() => m.ForwardPacked([Enumerable.Repeat(1, 30).ToArray()], [packedCaches[0]]));
            Assert.Contains("longer than the model's context (32)", e.Message);
        }
        finally
        {
            foreach (var c in packedCaches.Concat(aloneCaches)) c.Dispose();
        }
    }
}
