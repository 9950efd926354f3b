using GptSharp.Data.Shards;

namespace GptSharp.Tests.Data.Shards;

public class TokenShardTests
{
    [Theory]
    [InlineData(257, 2)]      // fits uint16
    [InlineData(65536, 2)]
    [InlineData(100_000, 4)]  // needs uint32
    public void WrittenTokensReadBackExactly(int vocab, int width)
    {
        using var dir = new Fixture.TempDir();
        var ids = Enumerable.Range(0, 5000).Select(i => (int)((i * 7919L) % vocab)).ToArray();
        using (var w = new TokenShardWriter(dir["a.bin"], vocab))
        {
            w.Write(ids.AsSpan(0, 1234));
            w.Write(ids.AsSpan(1234));
        }
        Assert.Equal(32 + 5000L * width, new FileInfo(dir["a.bin"]).Length);
        using var shard = TokenShard.Open(dir["a.bin"]);
        Assert.Equal(5000, shard.Count);
        Assert.Equal(width, shard.BytesPerToken);
        Assert.Equal(vocab, shard.VocabSize);
        var back = new long[5000];
        shard.CopyTo(0, back);
        Assert.Equal(ids.Select(i => (long)i), back);
        Assert.Equal(ids[4999], shard[4999]);
    }

    [Fact]
    public void IdsOutsideTheVocabularyAreRefused()
    {
        using var dir = new Fixture.TempDir();
        using var w = new TokenShardWriter(dir["a.bin"], 100);
        Assert.Throws<GptSharpException>(() => w.Write(100));
    }

    [Fact]
    public void CorruptShardsAreNamedInTheError()
    {
        using var dir = new Fixture.TempDir();
        File.WriteAllBytes(dir["bad.bin"], new byte[40]);
        var e = Assert.Throws<GptSharpException>(() => TokenShard.Open(dir["bad.bin"]));
        Assert.Contains("bad.bin", e.Message);
        Assert.Contains("magic", e.Message);

        using (var w = new TokenShardWriter(dir["short.bin"], 300)) w.Write([1, 2, 3]);
        using (var f = new FileStream(dir["short.bin"], FileMode.Open)) f.SetLength(f.Length - 2);
        e = Assert.Throws<GptSharpException>(() => TokenShard.Open(dir["short.bin"]));
        Assert.Contains("3 tokens", e.Message);
    }
}
