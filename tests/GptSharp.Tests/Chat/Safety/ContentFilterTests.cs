using GptSharp.Inference;
using GptSharp.Chat.Safety;

namespace GptSharp.Tests.Chat.Safety;

public class ContentFilterTests
{
    const string Rules = """
        {
          "categories": {
            "violence": { "words": ["kill you", "杀了你"], "patterns": ["b[o0]mb recipe"] },
            "insult": { "words": ["Idiot", "白痴"] }
          },
          "refusal": "Let's talk about something else.",
          "output_action": "stop"
        }
        """;

    static ContentFilter Filter(string action = "stop") => ContentFilter.Parse(Rules.Replace("\"stop\"", $"\"{action}\""), "test rules");

    static (string Shown, ContentFilterStream Stream) Feed(ContentFilter filter, params string[] pieces)
    {
        var stream = filter.CreateOutputStream();
        string shown = string.Concat(pieces.Select(stream.Push)) + stream.Finish();
        return (shown, stream);
    }

    [Theory]
    [InlineData("I will KILL YOU tomorrow", "violence", "KILL YOU")]
    [InlineData("you idiot!", "insult", "idiot")]
    [InlineData("我要杀了你", "violence", "杀了你")]
    [InlineData("你是白痴吗", "insult", "白痴")]
    [InlineData("send me a B0MB Recipe please", "violence", "B0MB Recipe")]
    public void BlocksInputWithItsCategory(string text, string category, string matched)
    {
        var verdict = Filter().CheckInput(text);
        Assert.True(verdict.IsBlocked);
        Assert.Equal(category, verdict.Category);
        Assert.Equal(matched, verdict.Text);
    }

    [Theory]
    [InlineData("that was idiotic")]      // a Latin word must stand alone...
    [InlineData("the skill you need")]     // ...on both sides
    [InlineData("一首浪漫的诗")]
    public void AllowsCleanInput(string text) => Assert.False(Filter().CheckInput(text).IsBlocked);

    [Fact]
    public void LatinWordNextToChineseStillMatches() => Assert.True(Filter().CheckInput("你这个idiot").IsBlocked);

    /// <summary>Trivial variants of banned phrases: case, spacing, compatibility forms, invisible characters, inflections.</summary>
    public static TheoryData<string, string> Variants => new()
    {
        { "I will KILL   YOU", "violence" },
        { "I will kill\tyou", "violence" },
        { "I will ＫＩＬＬ ｙｏｕ", "violence" },       // fullwidth letters (NFKC)
        { "I will ki\u200Bll you", "violence" },      // a zero-width space inside
        { "they are killing you", "violence" },
        { "he kills you", "violence" },
        { "how to make a  bomb", "violence" },
        { "HOW TO BUILD AN EXPLOSIVE", "violence" },
        { "you idiots", "insult" },
        { "you IDIOT's friend", "insult" },
        { "what a stupid   bot", "insult" },
        { "你是白 痴吗", "insult" },
        { "你是白\u3000痴吗", "insult" },              // an ideographic space
        { "你是白  \n 痴吗", "insult" },
        { "我要杀 了 你", "violence" },
        { "怎么 制造 炸弹", "violence" },
        { "我真的不想 活了", "self_harm" },
    };

    [Theory]
    [MemberData(nameof(Variants))]
    public void TrivialVariantsAreBlocked(string text, string category)
    {
        var verdict = ContentFilter.Default.CheckInput(text);
        Assert.True(verdict.IsBlocked, $"\"{text}\" got through");
        Assert.Equal(category, verdict.Category);
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void TrivialVariantsAreMaskedWhenStreamedInSmallPieces(string text, string category)
    {
        var filter = ContentFilter.Default.WithOutputAction(ContentFilterAction.Mask);
        // Every split into pieces of 1, 2 and 3 characters, as tokens might arrive.
        foreach (int size in new[] { 1, 2, 3 })
        {
            var pieces = Enumerable.Range(0, (text.Length + size - 1) / size).Select(i => text.Substring(i * size, Math.Min(size, text.Length - i * size))).ToArray();
            var (shown, stream) = Feed(filter, pieces);
            Assert.Contains(ContentFilterStream.Mask, shown);
            Assert.Equal(category, Assert.Single(stream.Blocks).Category);
            Assert.Equal(text, shown.Replace(ContentFilterStream.Mask, stream.Blocks[0].Text)); // the rest is untouched
        }
    }

    [Theory]
    [InlineData("the skill you need")]
    [InlineData("a skilled youth")]
    [InlineData("that was idiotic")]
    [InlineData("idiotically")]
    [InlineData("the bombastic speech")]
    [InlineData("blend my life into art")]
    [InlineData("the kill your darlings rule")]
    [InlineData("白色的 痴迷")]
    [InlineData("一首浪漫的诗")]
    [InlineData("Straße and ｆｕｌｌｗｉｄｔｈ text")]
    public void NormalTextIsNotBlocked(string text)
    {
        Assert.False(ContentFilter.Default.CheckInput(text).IsBlocked);
        var (shown, stream) = Feed(ContentFilter.Default, [.. text.Select(c => c.ToString())]);
        Assert.Equal(text, shown);
        Assert.Empty(stream.Blocks);
    }

    [Fact]
    public void MaskCoversWholeWordsAndKeepsTheRestVerbatim()
    {
        var filter = ContentFilter.Default.WithOutputAction(ContentFilterAction.Mask);
        Assert.Equal("Oh you ***, I will *** later.", Feed(filter, "Oh you IDIO", "TS, I will kill  ", "  yo", "u later.").Shown);
        Assert.Equal("你是***吗？", Feed(filter, "你是白", " ", "痴吗？").Shown);
    }

    [Fact]
    public void StopEndsTheReplyBeforeAPhraseSpreadOverSeveralPieces()
    {
        var (shown, stream) = Feed(Filter("stop"), "Well, I will ki", "ll y", "ou", " now, ok?");
        Assert.Equal("Well, I will ", shown);
        Assert.True(stream.Stopped);
        Assert.Equal([new ContentFilterBlock("violence", "kill you", ContentFilterSide.Output)], stream.Blocks);
    }

    [Fact]
    public void MaskReplacesEachPhraseAndGoesOn()
    {
        var (shown, stream) = Feed(Filter("mask"), "Well, I will ki", "ll y", "ou", " now, id", "iot.");
        Assert.Equal("Well, I will *** now, ***.", shown);
        Assert.False(stream.Stopped);
        Assert.Equal(["violence", "insult"], stream.Blocks.Select(b => b.Category));
    }

    [Fact]
    public void ChinesePhraseSplitOverPiecesIsCaught()
    {
        Assert.Equal("我要", Feed(Filter("stop"), "我要杀", "了", "你！然后").Shown);
        var (masked, stream) = Feed(Filter("mask"), "我要杀", "了", "你！你这个白", "痴");
        Assert.Equal("我要***！你这个***", masked);
        Assert.Equal(["杀了你", "白痴"], stream.Blocks.Select(b => b.Text));
    }

    [Fact]
    public void CleanTextIsReleasedAsSoonAsItCannotStartAMatch()
    {
        var filter = Filter();
        var stream = filter.CreateOutputStream();
        string text = new('a', 100);
        string now = stream.Push(text);
        Assert.Equal(100 - filter.HoldBack, now.Length);
        Assert.Equal(text, now + stream.Finish());
        // A word that a later piece turns into a longer one is not blocked.
        Assert.Equal("an idiotic plan", Feed(filter, "an idiot", "ic plan").Shown);
    }

    [Fact]
    public void DefaultRulesLoadAndMatchEnglishAndChinese()
    {
        var filter = ContentFilter.Default;
        Assert.Equal(ContentFilterAction.Stop, filter.OutputAction);
        Assert.True(filter.CheckInput("I'll hurt you").IsBlocked);
        Assert.True(filter.CheckInput("我真的不想活了").IsBlocked);
        Assert.False(filter.CheckInput("写一首浪漫的诗").IsBlocked);
        // The sample file holds the same rules.
        string sample = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "..", "samples", "content-filter.json");
        if (File.Exists(sample))
            Assert.Equal(filter.Categories.Select(c => c.Name), ContentFilter.Load(sample).Categories.Select(c => c.Name));
    }

    [Theory]
    [InlineData("{ \"categories\": ", "not valid JSON")]
    [InlineData("{ \"categories\": { \"violence\": { \"patterns\": [\"ok\", \"(unclosed\"] } } }", "category \"violence\", patterns[1] \"(unclosed\" is not a valid regular expression")]
    [InlineData("{ \"categories\": {}, \"output_action\": \"explode\" }", "output_action \"explode\" is unknown")]
    [InlineData("{ \"categories\": { \"x\": { \"word\": [\"a\"] } } }", "category \"x\": unknown key \"word\"")]
    [InlineData("{ \"categories\": { \"x\": { \"words\": [\"\"] } } }", "category \"x\", words[0] must be a non-empty string")]
    [InlineData("{ \"refusal\": \"no\" }", "missing \"categories\"")]
    public void MalformedRulesNameTheFileAndTheRule(string json, string expected)
    {
        using var dir = new Fixture.TempDir();
        File.WriteAllText(dir["rules.json"], json);
        var e = Assert.Throws<GptSharpException>(() => ContentFilter.Load(dir["rules.json"]));
        Assert.StartsWith(dir["rules.json"] + ": ", e.Message);
        Assert.Contains(expected, e.Message);
    }
}
