using GptSharp.Models;
using static TorchSharp.torch;

namespace GptSharp.Tests.Models;

public class KvCacheTests
{
    static readonly GptConfig Tiny = new() { VocabSize = 50, BlockSize = 16, NLayer = 2, NHead = 2, NEmbd = 16 };

    [Fact]
    public void ReorderMakesEachRowHoldTheRowItNames()
    {
        using var cache = new KvCache(layers: 1, capacity: 4);
        using var _ = no_grad();
        // Row b holds the value b everywhere.
        using var k = arange(3, dtype: ScalarType.Float32).view(3, 1, 1, 1).expand(3, 2, 2, 4).contiguous();
        using var v = (k + 10).contiguous();
        cache.Append(0, k, v);
        cache.Advance(2);

        using var index = tensor(new long[] { 2, 0, 0 });
        cache.Reorder(index);
        using var one = zeros(3, 2, 1, 4);
        var (keys, values) = cache.Append(0, one, one);
        using (keys) using (values)
        {
            using var storedKeys = keys.narrow(2, 0, 2);
            using var storedValues = values.narrow(2, 0, 2);
            Assert.Equal(new float[] { 2, 0, 0 }, Rows(storedKeys));
            Assert.Equal(new float[] { 12, 10, 10 }, Rows(storedValues));
        }
    }

    static float[] Rows(Tensor t)
    {
        // Every element of a row is the same value: return it, and check it is.
        using var min = t.amin([1, 2, 3]);
        using var max = t.amax([1, 2, 3]);
        Assert.Equal(min.data<float>().ToArray(), max.data<float>().ToArray());
        return min.data<float>().ToArray();
    }

    [Fact]
    public void AReorderedCacheContinuesTheReorderedSequences()
    {
        using var model = Gpt.Create(Tiny, seed: 2);
        model.eval();
        using var _ = no_grad();
        long[][] prompts = [[1, 2, 3], [4, 5, 6], [7, 8, 9]];
        using var cache = new KvCache(Tiny.NLayer, 8);
        using var batch = tensor(prompts.SelectMany(p => p).ToArray(), [3, 3]);
        model.Forward(batch, cache).Dispose();

        cache.Reorder(tensor(new long[] { 1, 1, 2 }));
        using var next = tensor(new long[] { 10, 11, 12 }, [3, 1]);
        using var cached = model.Forward(next, cache, lastPositionOnly: true);

        long[][] expected = [[4, 5, 6, 10], [4, 5, 6, 11], [7, 8, 9, 12]];
        using var full = tensor(expected.SelectMany(p => p).ToArray(), [3, 4]);
        using var uncached = model.Forward(full, lastPositionOnly: true);
        using var diff = (cached - uncached).abs().max();
        Assert.True(diff.item<float>() < 1e-5f, $"cached and uncached logits differ by {diff.item<float>()}");
    }

    [Fact]
    public void ReorderChecksItsIndex()
    {
        using var model = Gpt.Create(Tiny, seed: 2);
        using var _ = no_grad();
        using var cache = new KvCache(Tiny.NLayer, 8);
        using (var ids = tensor(new long[] { 1, 2, 3, 4 }, [2, 2])) model.Forward(ids, cache).Dispose();
        Assert.Throws<ArgumentException>(() => cache.Reorder(tensor(new long[] { 0, 1, 1 })));
        Assert.Throws<ArgumentException>(() => cache.Reorder(tensor(new[] { 0, 1 })));
    }
}
