using GptSharp.Inference;
using GptSharp.Models;
using GptSharp.Tokenization;
using static TorchSharp.torch;

namespace GptSharp.Tests.Inference;

/// <summary>The incremental stop-sequence watch: same answers as searching the whole decoded text, at a cost that does not grow with it.</summary>
public class StopSequenceScannerTests
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
        var scanner = new StopSequenceScanner(Gpt2, stops);
        for (int k = 1; k <= ids.Length; k++)
        {
            int expected = StopSequenceMatch.Find(Gpt2.Decode(ids[..k]), stops);
            bool found = scanner.Push(ids[k - 1]);
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
        var scanner = new StopSequenceScanner(Gpt2, ["龘龘"]);
        int firedAt = Enumerable.Range(0, ids.Length).First(k => scanner.Push(ids[k]));
        Assert.Equal(Gpt2.Decode(ids[..(firedAt + 1)]).IndexOf("龘龘", StringComparison.Ordinal), scanner.Cut);
        Assert.Equal(0, scanner.Cut);
        Assert.DoesNotContain("龘龘", Gpt2.Decode(ids[..firedAt]));
    }

    [Fact]
    public void ACloneGoesOnAlone()
    {
        int[] ids = Gpt2.Encode("one two three four");
        var a = new StopSequenceScanner(Gpt2, ["three"]);
        a.Push(ids[0]);
        a.Push(ids[1]);
        var b = a.Clone();
        Assert.True(b.Push(ids[2]));
        Assert.False(a.Push(ids[3])); // " four" after " two": a never saw " three"
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
