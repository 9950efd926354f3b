using GptSharp.Data.Shards;
using GptSharp.Data.Statistics;

namespace GptSharp.Tests.Data.Statistics;

public class TextStatisticsTests
{
    [Fact]
    public async Task DocumentsInTextAndInShardsAreHandCounted()
    {
        using var dir = new Fixture.TempDir();
        // With one id per byte, a document is its bytes (newlines included) plus one end-of-text token.
        string a = dir.WriteText("a.txt", "abc\n<|endoftext|>\nhello world\n<|endoftext|>\n");
        string b = dir.WriteText("b.txt", "xy\n");
        var tok = new ByteTokenizer();
        var lengths = TextStatistics.TextDocumentLengths([a, b], tok);
        Assert.Equal([5, 13, 4], lengths);

        await DataPreparer.PrepareAsync([a, b], tok, dir["data"], new PrepareOptions { ValFraction = 0 });
        Assert.Equal([5, 13, 4], TextStatistics.ShardDocumentLengths(dir["data"]));

        var stats = TextStatistics.Compute(lengths, [4, 8, 64], "test");
        Assert.Equal("documents", stats.Unit);
        Assert.Null(stats.Replies);
        Assert.Equal(new LengthSummary(3, 4, 5, 13, 13, 13, 13, 22 / 3.0), stats.Lengths);
        // block 4 holds 5 tokens: only the 13-token document is cut, 8 tokens past the block.
        Assert.Equal(new BlockSizeTruncation(4, 1, 3, 8, 22), stats.Truncation[0]);
        Assert.Equal(new BlockSizeTruncation(8, 1, 3, 4, 22), stats.Truncation[1]);
        Assert.Equal(new BlockSizeTruncation(64, 0, 3, 0, 22), stats.Truncation[2]);
    }

    [Fact]
    public void BadInputsAreNamed()
    {
        using var dir = new Fixture.TempDir();
        Assert.Contains("nope.txt: input file not found",
            Assert.Throws<GptSharpException>(() => TextStatistics.TextDocumentLengths([dir["nope.txt"]], new ByteTokenizer())).Message);
        Assert.Contains("data directory not found", Assert.Throws<GptSharpException>(() => TextStatistics.ShardDocumentLengths(dir["nodata"])).Message);
        Assert.Contains("empty.txt: no documents",
            Assert.Throws<GptSharpException>(() => TextStatistics.Compute([], [64], "empty.txt")).Message);
    }
}
