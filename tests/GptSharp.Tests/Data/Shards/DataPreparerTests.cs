using System.Text;
using GptSharp.Data.Shards;

namespace GptSharp.Tests.Data.Shards;

public class DataPreparerTests
{
    static readonly ByteTokenizer Tok = new();

    static string Documents(int count) =>
        string.Concat(Enumerable.Range(0, count).Select(i => $"document {i}\nsecond line of {i}\n<|endoftext|>\n"));

    static string ReadSplit(string dataDir, string split)
    {
        using var ds = TokenDataset.Open(dataDir, split);
        var ids = new long[ds.Count];
        ds.CopyTo(0, ids);
        return Tok.Decode(ids.Select(i => (int)i));
    }

    [Fact]
    public async Task DocumentsAreSeparatedByEndOfTextAndSplitEveryKth()
    {
        using var dir = new Fixture.TempDir();
        string a = dir.WriteText("a.txt", Documents(25));
        string b = dir.WriteText("b.txt", "last file, one document\n");
        var meta = await DataPreparer.PrepareAsync([a, b], Tok, dir["data"], new PrepareOptions { ValFraction = 0.1 });

        Assert.Equal(26, meta.Train.Documents + meta.Val.Documents);
        Assert.Equal(2, meta.Val.Documents); // documents 9 and 19: every 10th
        Assert.Equal("|document 9\nsecond line of 9\n|document 19\nsecond line of 19\n", ReadSplit(dir["data"], "val"));
        string train = ReadSplit(dir["data"], "train");
        Assert.StartsWith("|document 0\nsecond line of 0\n|document 1\n", train);
        Assert.EndsWith("|document 24\nsecond line of 24\n|last file, one document\n", train);
        Assert.DoesNotContain("document 9\n", train);
        Assert.Equal(train.Length, meta.Train.Tokens);
        Assert.Equal("uint16", meta.Dtype);
        Assert.Equal(257, meta.VocabSize);
        Assert.Equal(256, meta.EndOfTextId);

        // Same input, same bytes.
        await DataPreparer.PrepareAsync([a, b], Tok, dir["again"], new PrepareOptions { ValFraction = 0.1 });
        foreach (var shard in meta.Train.Shards.Concat(meta.Val.Shards))
            Assert.Equal(File.ReadAllBytes(Path.Combine(dir["data"], shard)), File.ReadAllBytes(Path.Combine(dir["again"], shard)));
    }

    [Fact]
    public void SplitHoldsOutExactlyTheFraction()
    {
        Assert.Equal(50, Enumerable.Range(0, 1000).Count(i => DocumentSplit.IsValidation(i, 0.05)));
        Assert.Equal([19, 39, 59], Enumerable.Range(0, 60).Where(i => DocumentSplit.IsValidation(i, 0.05)));
        Assert.DoesNotContain(Enumerable.Range(0, 100), i => DocumentSplit.IsValidation(i, 0));
    }

    [Fact]
    public async Task ShardsRollOverAndReadAcrossBoundaries()
    {
        using var dir = new Fixture.TempDir();
        string text = string.Concat(Enumerable.Range(0, 300).Select(i => $"line number {i} of a longer document\n"));
        string a = dir.WriteText("a.txt", text);
        var meta = await DataPreparer.PrepareAsync([a], Tok, dir["data"], new PrepareOptions { ValFraction = 0, ShardTokens = 1024 });
        Assert.True(meta.Train.Shards.Count > 5);
        Assert.Equal("|" + text, ReadSplit(dir["data"], "train"));
        Assert.Empty(meta.Val.Shards);
    }

    [Fact]
    public async Task BlankLineAndLineBoundaries()
    {
        using var dir = new Fixture.TempDir();
        string a = dir.WriteText("a.txt", "\n\npara one\nstill one\n\n\npara two\n   \npara three");
        var meta = await DataPreparer.PrepareAsync([a], Tok, dir["p"], new PrepareOptions { ValFraction = 0, DocumentBoundary = DocumentBoundary.BlankLine });
        Assert.Equal("|para one\nstill one\n|para two\n|para three", ReadSplit(dir["p"], "train"));
        Assert.Equal(3, meta.Train.Documents);

        meta = await DataPreparer.PrepareAsync([a], Tok, dir["l"], new PrepareOptions { ValFraction = 0, DocumentBoundary = DocumentBoundary.Line });
        Assert.Equal("|para one|still one|para two|para three", ReadSplit(dir["l"], "train"));
        Assert.Equal("line", meta.DocumentBoundary);
    }

    [Fact]
    public async Task CrLfAndByteOrderMarkAreNormalised()
    {
        using var dir = new Fixture.TempDir();
        string a = dir["a.txt"];
        File.WriteAllBytes(a, [.. Encoding.UTF8.GetPreamble(), .. "héllo\r\nworld\r\n"u8]);
        await DataPreparer.PrepareAsync([a], Tok, dir["data"], new PrepareOptions { ValFraction = 0 });
        Assert.Equal("|héllo\nworld\n", ReadSplit(dir["data"], "train"));
    }

    [Fact]
    public async Task InvalidUtf8NamesFileAndLine()
    {
        using var dir = new Fixture.TempDir();
        string a = dir["bad.txt"];
        File.WriteAllBytes(a, [.. "fine\nalso fine\nbroken "u8, 0xC3, 0x28, .. "\n"u8]);
        var e = await Assert.ThrowsAsync<GptSharpException>(() => DataPreparer.PrepareAsync([a], Tok, dir["data"], new PrepareOptions { ValFraction = 0 }));
        Assert.Contains("bad.txt:3", e.Message);
        Assert.Contains("UTF-8", e.Message);
        Assert.False(Directory.Exists(dir["data"]));
        Assert.Single(Directory.GetFileSystemEntries(dir.Root)); // no temporary left behind
    }

    [Fact]
    public async Task EmptyCorpusAndEmptyValidationAreClearErrors()
    {
        using var dir = new Fixture.TempDir();
        string empty = dir.WriteText("empty.txt", "\n  \n<|endoftext|>\n");
        var e = await Assert.ThrowsAsync<GptSharpException>(() => DataPreparer.PrepareAsync([empty], Tok, dir["d1"]));
        Assert.Contains("empty", e.Message);

        string one = dir.WriteText("one.txt", "a single document\n");
        e = await Assert.ThrowsAsync<GptSharpException>(() => DataPreparer.PrepareAsync([one], Tok, dir["d2"], new PrepareOptions { ValFraction = 0.05 }));
        Assert.Contains("validation", e.Message);

        e = await Assert.ThrowsAsync<GptSharpException>(() => DataPreparer.PrepareAsync([dir["missing.txt"]], Tok, dir["d3"]));
        Assert.Contains("missing.txt", e.Message);
    }

    [Fact]
    public async Task ExistingOutputIsReplacedOnlyWhenAsked()
    {
        using var dir = new Fixture.TempDir();
        string a = dir.WriteText("a.txt", Documents(20));
        await DataPreparer.PrepareAsync([a], Tok, dir["data"]);
        await Assert.ThrowsAsync<GptSharpException>(() => DataPreparer.PrepareAsync([a], Tok, dir["data"]));
        var meta = await DataPreparer.PrepareAsync([a], Tok, dir["data"], new PrepareOptions { Overwrite = true, ValFraction = 0.5 });
        Assert.Equal(10, DatasetMeta.Read(dir["data"]).Val.Documents);
        Assert.Equal(meta.Val.Tokens, DatasetMeta.Read(dir["data"]).Val.Tokens);
    }

    [Fact]
    public async Task TemporariesOfAKilledRunAreCleanedOnTheNextStartButNotThoseOfALiveOne()
    {
        using var dir = new Fixture.TempDir();
        string a = dir.WriteText("a.txt", Documents(20));
        using var dead = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("true") { UseShellExecute = false })!;
        dead.WaitForExit();
        string killed = $"{dir["data"]}.tmp-{dead.Id}-{Guid.NewGuid():N}";
        string running = $"{dir["data"]}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        Directory.CreateDirectory(killed);
        File.WriteAllText(Path.Combine(killed, "train-00000.bin"), "half-written");
        Directory.CreateDirectory(running);

        await DataPreparer.PrepareAsync([a], Tok, dir["data"]);
        Assert.False(Directory.Exists(killed));
        Assert.True(Directory.Exists(running));
        Assert.Equal(["a.txt", "data", Path.GetFileName(running)], Directory.GetFileSystemEntries(dir.Root).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }
}
