using static TorchSharp.torch;
using GptSharp.Data.Shards;

namespace GptSharp.Tests.Data.Shards;

public class BatchSamplerTests : IDisposable
{
    readonly Fixture.TempDir _dir = new();
    readonly TokenDataset _data;

    public BatchSamplerTests()
    {
        string a = _dir.WriteText("a.txt", string.Concat(Enumerable.Range(0, 200).Select(i => $"sentence {i}.\n")));
        DataPreparer.PrepareAsync([a], new ByteTokenizer(), _dir["data"], new PrepareOptions { ValFraction = 0, ShardTokens = 1024 }).Wait();
        _data = TokenDataset.Open(_dir["data"], "train");
    }

    public void Dispose()
    {
        _data.Dispose();
        _dir.Dispose();
    }

    static long[] Flat(Tensor t) => t.data<long>().ToArray();

    [Fact]
    public void WindowsAreShiftedByOneWithTheRightShape()
    {
        var sampler = new BatchSampler(_data, batchSize: 4, blockSize: 16, seed: 1);
        using var scope = NewDisposeScope();
        var batch = sampler.Next(CPU);
        Assert.Equal([4L, 16L], batch.Input.shape);
        Assert.Equal([4L, 16L], batch.Targets.shape);
        Assert.Equal(ScalarType.Int64, batch.Input.dtype);
        Assert.Equal(Flat(batch.Input[.., 1..].contiguous()), Flat(batch.Targets[.., ..^1].contiguous()));
        // Each row is a real window of the data.
        var all = new long[_data.Count];
        _data.CopyTo(0, all);
        string text = string.Join(",", all);
        for (int r = 0; r < 4; r++) Assert.Contains(string.Join(",", Flat(batch.Input[r])), text);
    }

    [Fact]
    public void SameSeedSameBatchesAndStateResumesExactly()
    {
        using var scope = NewDisposeScope();
        var a = new BatchSampler(_data, 3, 8, seed: 42);
        var b = new BatchSampler(_data, 3, 8, seed: 42);
        var c = new BatchSampler(_data, 3, 8, seed: 43);
        Assert.Equal(Flat(a.Next(CPU).Input), Flat(b.Next(CPU).Input));
        Assert.NotEqual(Flat(a.Next(CPU).Input), Flat(c.Next(CPU).Input));

        var saved = a.GetState();
        var expected = Enumerable.Range(0, 3).Select(_ => Flat(a.Next(CPU).Targets)).ToList();
        var resumed = new BatchSampler(_data, 3, 8, seed: 999);
        resumed.SetState(System.Text.Json.Nodes.JsonNode.Parse(saved.ToJsonString())!);
        Assert.Equal(expected, Enumerable.Range(0, 3).Select(_ => Flat(resumed.Next(CPU).Targets)).ToList());
    }

    [Fact]
    public void StartsCoverTheWholeSplitAndNeverRunOff()
    {
        var sampler = new BatchSampler(_data, 64, (int)_data.Count - 2, seed: 3);
        using var scope = NewDisposeScope();
        var firsts = Flat(sampler.Next(CPU).Input[.., 0]).ToHashSet();
        Assert.Equal(2, firsts.Count); // exactly two valid windows, both drawn
    }

    [Fact]
    public void TooLittleDataIsAClearError()
    {
        var e = Assert.Throws<GptSharpException>(() => new BatchSampler(_data, 1, (int)_data.Count, seed: 1));
        Assert.Contains("block_size", e.Message);
    }
}
