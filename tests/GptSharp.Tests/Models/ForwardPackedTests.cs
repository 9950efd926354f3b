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
        int[][] pasts = [[1, 2, 3, 4, 5], [], [9, 8], [4]];
        int[][] fresh = [[6], [7, 7, 7], [1, 2, 3, 4], [5]];
        using var slots = new KvSlots(2, 4, capacity: 2, maxCapacity: 32); // starts small: it must grow
        var alone = pasts.Select(_ => new KvCache(2, 32)).ToArray();
        try
        {
            foreach (var _ in pasts) slots.Add();
            for (int i = 0; i < pasts.Length; i++)
            {
                if (pasts[i].Length == 0) continue;
                using var a = m.ForwardPacked([pasts[i]], [i], slots);
                using var b = m.Forward(tensor(pasts[i].Select(t => (long)t).ToArray(), [1, pasts[i].Length]), alone[i]);
            }
            // Rows out of slot order, one-token rows (batched attention) mixed with chunks (one by one).
            int[] order = [2, 0, 3, 1];
            using var packed = m.ForwardPacked(order.Select(i => (IReadOnlyList<int>)fresh[i]).ToList(), order, slots);
            Assert.Equal([4L, 100L], packed.shape);
            for (int j = 0; j < order.Length; j++)
            {
                int i = order[j];
                using var single = m.Forward(tensor(fresh[i].Select(t => (long)t).ToArray(), [1, fresh[i].Length]), alone[i], lastPositionOnly: true);
                Assert.True(allclose(packed[j], single[0, -1], rtol: 1e-4, atol: 1e-5), $"sequence {i}");
                Assert.Equal(alone[i].Length, slots.Length(i));
            }
            // A freed slot takes the last one's place, keys and all: decoding on continues as before.
            Assert.Equal(3, slots.Remove(1));
            using var next = m.ForwardPacked([[8], [8], [8]], [0, 1, 2], slots); // every slot decodes: the contiguous path
            int[] owners = [0, 3, 2];
            for (int j = 0; j < 3; j++)
            {
                using var single = m.Forward(tensor(new long[] { 8 }, [1, 1]), alone[owners[j]], lastPositionOnly: true);
                Assert.True(allclose(next[j], single[0, -1], rtol: 1e-4, atol: 1e-5), $"slot {j}");
            }
            var e = Assert.Throws<GptSharpException>(() => m.ForwardPacked([Enumerable.Repeat(1, 30).ToArray()], [0], slots));
            Assert.Contains("longer than the model's context (32)", e.Message);
        }
        finally
        {
            foreach (var c in alone) c.Dispose();
        }
    }
}
