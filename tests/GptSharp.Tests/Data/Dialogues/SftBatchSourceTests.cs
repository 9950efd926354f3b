using static TorchSharp.torch;
using GptSharp.Tokenization;
using GptSharp.Data.Dialogues;

namespace GptSharp.Tests.Data.Dialogues;

public class SftBatchSourceTests
{
    static long[] Flat(Tensor t) => t.data<long>().ToArray();

    /// <summary>Example i has i + 3 tokens (ids 1000 i + position); the loss covers its second half.</summary>
    static SftExample[] Examples(int count) => [.. Enumerable.Range(0, count).Select(i =>
    {
        int n = i + 3;
        return new SftExample([.. Enumerable.Range(0, n).Select(p => 1000 * i + p)], [.. Enumerable.Range(0, n).Select(p => p >= n / 2)]);
    })];

    [Fact]
    public void PadsToTheLongestInBatchAndMasksTargets()
    {
        var examples = Examples(5);
        var source = new SftBatchSource(examples, batchSize: 5, blockSize: 16, seed: 1, padId: 7);
        using var scope = NewDisposeScope();
        var batch = source.Next(CPU);
        int t = examples.Max(e => e.Ids.Length) - 1;
        Assert.Equal([5L, t], batch.Input.shape);
        Assert.Equal([5L, t], batch.Targets.shape);
        Assert.Equal(ScalarType.Int64, batch.Targets.dtype);
        Assert.NotNull(batch.LossMask);
        Assert.Equal(ScalarType.Bool, batch.LossMask!.dtype);

        var x = Flat(batch.Input);
        var y = Flat(batch.Targets);
        var m = batch.LossMask.data<bool>().ToArray();
        var seenExamples = new HashSet<long>();
        for (int r = 0; r < 5; r++)
        {
            var e = examples[(int)(x[r * t] / 1000)];
            seenExamples.Add(x[r * t] / 1000);
            for (int i = 0; i < t; i++)
            {
                bool real = i < e.Ids.Length - 1;
                Assert.Equal(real ? e.Ids[i] : 7, x[r * t + i]);
                bool counts = real && e.LossMask[i + 1];
                Assert.Equal(counts ? e.Ids[i + 1] : -100, y[r * t + i]);
                Assert.Equal(counts, m[r * t + i]);
            }
        }
        Assert.Equal(5, seenExamples.Count);
    }

    [Fact]
    public void EachEpochVisitsEveryExampleOnceInANewOrder()
    {
        var source = new SftBatchSource(Examples(7), batchSize: 3, blockSize: 16, seed: 5);
        Assert.Equal(7, source.ExamplesCount);
        Assert.Equal(3, source.StepsPerEpoch(3));
        Assert.Equal(7, source.StepsPerEpoch(1));

        List<long> Epoch()
        {
            var firsts = new List<long>();
            for (int step = 0; step < 3; step++)
            {
                using var scope = NewDisposeScope();
                var batch = source.Next(CPU);
                Assert.Equal(step < 2 ? 3 : 1, (int)batch.Input.shape[0]);
                firsts.AddRange(Flat(batch.Input[.., 0].contiguous()).Select(v => v / 1000));
            }
            return firsts;
        }
        var first = Epoch();
        Assert.Equal(1, source.Epoch);
        var second = Epoch();
        Assert.Equal(Enumerable.Range(0, 7).Select(i => (long)i), first.Order());
        Assert.Equal(Enumerable.Range(0, 7).Select(i => (long)i), second.Order());
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void ResumesExactlyFromItsState()
    {
        var a = new SftBatchSource(Examples(10), batchSize: 4, blockSize: 16, seed: 9);
        using var scope = NewDisposeScope();
        for (int i = 0; i < 4; i++) a.Next(CPU); // into the second epoch
        var state = a.GetState().ToJsonString();

        var b = new SftBatchSource(Examples(10), batchSize: 4, blockSize: 16, seed: 9);
        b.SetState(System.Text.Json.Nodes.JsonNode.Parse(state)!);
        for (int i = 0; i < 6; i++)
        {
            var ba = a.Next(CPU);
            var bb = b.Next(CPU);
            Assert.Equal(Flat(ba.Input), Flat(bb.Input));
            Assert.Equal(Flat(ba.Targets), Flat(bb.Targets));
        }
        Assert.Equal(a.Epoch, b.Epoch);

        var other = new SftBatchSource(Examples(11), batchSize: 4, blockSize: 16, seed: 9);
        Assert.Throws<GptSharpException>(() => other.SetState(System.Text.Json.Nodes.JsonNode.Parse(state)!));
    }

    [Fact]
    public void RejectsExamplesLongerThanTheBlock()
    {
        Assert.Throws<ArgumentException>(() => new SftBatchSource(Examples(5), batchSize: 2, blockSize: 4, seed: 1));
        Assert.Throws<GptSharpException>(() => new SftBatchSource([], batchSize: 2, blockSize: 4, seed: 1));
    }
}
