using System.Text;
using GptSharp.Tokenization;
using GptSharp.Data.Shards;

namespace GptSharp.Tests.Data.Shards;

public class TextDocumentReaderTests
{
    [Fact]
    public void LongDocumentsArriveInPiecesCutAfterAWordAndANewline()
    {
        using var dir = new Fixture.TempDir();
        var sb = new StringBuilder();
        for (int i = 0; sb.Length < 5 * TextDocumentReader.TargetPieceChars; i++) sb.Append(i % 7 == 0 ? "\n" : i % 3 == 0 ? $"line {i} ends in a word\n" : $"line {i} ends with a space \n");
        string text = sb.ToString();
        string path = dir.WriteText("a.txt", "first\n" + text);

        var pieces = TextDocumentReader.Read(path, DocumentBoundary.File).ToList();
        Assert.True(pieces.Count >= 4);
        Assert.Equal("first\n" + text, string.Concat(pieces.Select(p => p.Text)));
        Assert.All(pieces[..^1], p => { Assert.False(p.EndsDocument); Assert.Matches(@"\S\n$", p.Text); });
        Assert.True(pieces[^1].EndsDocument);
    }

    [Fact]
    public void AHugeLineIsCutBeforeASpace()
    {
        using var dir = new Fixture.TempDir();
        string line = string.Concat(Enumerable.Repeat("wörd ", TextDocumentReader.MaxLineBytes / 3)) + "end\n";
        string path = dir.WriteText("a.txt", line);
        var pieces = TextDocumentReader.Read(path, DocumentBoundary.File).ToList();
        Assert.Equal(line, string.Concat(pieces.Select(p => p.Text)));
    }

    [Fact]
    public void PiecesTokenizeExactlyLikeTheWholeDocumentWithGpt2()
    {
        using var dir = new Fixture.TempDir();
        var rnd = new Random(5);
        string[] lines = ["Hello world.", "  indented line", "trailing spaces   ", "", "", "\ttab\tseparated", "数字 123 and 4567!", "end"];
        var sb = new StringBuilder();
        while (sb.Length < 3 * TextDocumentReader.TargetPieceChars) sb.Append(lines[rnd.Next(lines.Length)]).Append('\n');
        string text = sb.ToString();
        string path = dir.WriteText("a.txt", text);

        var pieces = TextDocumentReader.Read(path, DocumentBoundary.File).ToList();
        Assert.True(pieces.Count >= 3);
        var tok = GptSharp.Tokenization.BpeTokenizer.Gpt2();
        Assert.Equal(tok.Encode(text), pieces.SelectMany(p => tok.Encode(p.Text)));
    }
}
