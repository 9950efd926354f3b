using System.Text;
using GptSharp.Inference;
using GptSharp.Models;
using GptSharp.Tokenization;
using static TorchSharp.torch;

namespace GptSharp.Tests.Inference;

/// <summary>The incremental stop-sequence watch: same answers as searching the whole decoded text, at a cost that does not grow with it.</summary>
public class StopSequencesTests
{
    static readonly BpeTokenizer Gpt2 = BpeTokenizer.Gpt2();

    [Theory]
    [InlineData("他说：你好，世界。然后他走了。", "世界")]
    [InlineData("他说：你好，世界。然后他走了。", "界。然")]
    [InlineData("写一首浪漫的诗：月光洒在湖面上", "湖面")]
    [InlineData("Hello, world! Hello again, 世界 and 🌍 planet.", "🌍 pl")]
    [InlineData("Hello, world! Hello again.", "lo ag")]
    [InlineData("Hello, world! Hello again.", "never there")]
    [InlineData("aaaaaaab", "aab")]
    public void FiresAtTheFirstTokenWhoseTextHoldsAStopSequenceAndCutsWhereSearchingTheWholeTextWould(string text, string stop)
    {
        int[] ids = Gpt2.Encode(text);
        Assert.True(ids.Length > 1);
        string[] stops = ["zzzz", stop];
        var scanner = new StopSequences(stops, Gpt2);
        for (int k = 1; k <= ids.Length; k++)
        {
            int expected = StopSequences.Find(Gpt2.Decode(ids[..k]), stops);
            scanner.Push(ids[k - 1]);
            bool found = scanner.Stopped;
            Assert.Equal(expected >= 0, found);
            if (found)
            {
                Assert.Equal(expected, scanner.Cut);
                Assert.Equal(text.IndexOf(stop, StringComparison.Ordinal), scanner.Cut);
                return;
            }
        }
        Assert.DoesNotContain(stop, text);
    }

    [Fact]
    public void AChineseCharacterSplitAcrossTokensIsMatchedOnlyWhenComplete()
    {
        // GPT-2's byte-level BPE spells many CJK characters with two or three tokens, each ending inside a character.
        string text = "龘龘龘";
        int[] ids = Gpt2.Encode(text);
        Assert.True(ids.Length > 3, $"{ids.Length} tokens");
        var scanner = new StopSequences(["龘龘"], Gpt2);
        int firedAt = Enumerable.Range(0, ids.Length).First(k => { scanner.Push(ids[k]); return scanner.Stopped; });
        Assert.Equal(Gpt2.Decode(ids[..(firedAt + 1)]).IndexOf("龘龘", StringComparison.Ordinal), scanner.Cut);
        Assert.Equal(0, scanner.Cut);
        Assert.DoesNotContain("龘龘", Gpt2.Decode(ids[..firedAt]));
    }

    [Fact]
    public void ACloneGoesOnAlone()
    {
        int[] ids = Gpt2.Encode("one two three four");
        var a = new StopSequences(["three"], Gpt2);
        a.Push(ids[0]);
        a.Push(ids[1]);
        var b = a.Clone();
        b.Push(ids[2]);
        Assert.True(b.Stopped);
        a.Push(ids[3]);
        Assert.False(a.Stopped); // " four" after " two": a never saw " three"
    }

    [Theory]
    [InlineData(new[] { "ab", "cX", "Yd" }, "XY", "abc")]
    [InlineData(new[] { "abc", "def" }, "zz", "abcdef")]
    [InlineData(new[] { "a", "S", "b", "STOP" }, "STOP", "aSb")]
    public void TextPiecesHoldBackPossibleStarts(string[] pieces, string stop, string expected)
    {
        var cut = new StopSequences([stop]);
        var text = new StringBuilder();
        foreach (var p in pieces)
        {
            text.Append(cut.Push(p));
            if (cut.Stopped) { Assert.Equal(expected, text.ToString()); return; }
        }
        text.Append(cut.Flush());
        Assert.Equal(expected, text.ToString());
    }

    [Theory]
    [InlineData("他说：你好，世界。然后他走了。", "世界", "他说：你好，")]
    [InlineData("Hello, world! Hello again, 世界 and 🌍 planet.", "🌍 pl", "Hello, world! Hello again, 世界 and ")]
    [InlineData("写一首浪漫的诗：月光洒在湖面上", "never there", "写一首浪漫的诗：月光洒在湖面上")]
    public void TokensReleaseWholeCharactersUpToTheCutAndNothingThatCouldStartAStop(string text, string stop, string expected)
    {
        int[] ids = Gpt2.Encode(text);
        var watch = new StopSequences([stop], Gpt2);
        var shown = new StringBuilder();
        foreach (int id in ids)
        {
            string piece = watch.Push(id);
            Assert.DoesNotContain('\uFFFD', piece);
            shown.Append(piece);
            if (watch.Stopped) break;
        }
        if (!watch.Stopped) shown.Append(watch.Flush());
        Assert.Equal(expected, shown.ToString());
        Assert.Equal(text.Contains(stop) ? expected.Length : -1, watch.Cut);
    }

    [Fact]
    public void TextThatMightStartAStopWaitsForTheNextToken()
    {
        var watch = new StopSequences([" three four"], Gpt2);
        int[] ids = Gpt2.Encode("one two three five");
        Assert.Equal("one", watch.Push(ids[0]));
        Assert.Equal(" two", watch.Push(ids[1]));
        Assert.Equal("", watch.Push(ids[2]));           // " three" may begin " three four"
        Assert.Equal(" three five", watch.Push(ids[3])); // it did not
        Assert.False(watch.Stopped);
        Assert.Equal("", watch.Flush());
    }

    /// <summary>Token i reads "&lt;i&gt;"; counts how many ids it has been asked to decode.</summary>
    sealed class CountingTokenizer : ITokenizer
    {
        public long IdsDecoded;
        public int VocabSize => 97;
        public int EndOfTextId => 96;
        public int[] Encode(string text) => throw new NotSupportedException();
        public string Decode(IEnumerable<int> ids)
        {
            var list = ids.ToList();
            IdsDecoded += list.Count;
            return string.Concat(list.Select(i => $"<{i}>"));
        }
    }

    [Fact]
    public void GenerationDoesNotDecodeTheWholeOutputAtEveryStep()
    {
        using var m = Gpt.Create(new GptConfig { VocabSize = 97, BlockSize = 256, NLayer = 1, NHead = 2, NEmbd = 32 }, 3);
        var tokenizer = new CountingTokenizer();
        var g = new TextGenerator(m, tokenizer);
        const int n = 200;
        var result = g.Complete([1, 2, 3], new GenerationOptions { DoSample = false, MaxNewTokens = n, StopAtEndOfText = false, StopSequences = ["no such text"] });
        Assert.Equal(n, result.Ids.Length);
        // One id per step while watching, plus one decode of the whole output for the result: re-decoding at every step would be n²/2.
        Assert.True(tokenizer.IdsDecoded <= 3 * n, $"{tokenizer.IdsDecoded} ids decoded for {n} tokens");
    }
}
