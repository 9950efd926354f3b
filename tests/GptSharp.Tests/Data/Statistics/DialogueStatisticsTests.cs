using GptSharp.Data.Dialogues;
using GptSharp.Data.Statistics;
using GptSharp.Tokenization;

namespace GptSharp.Tests.Data.Statistics;

public class DialogueStatisticsTests
{
    // One id per byte; role tokens outside the byte range. A message renders as role + its bytes + <|end|>.
    static readonly ChatTemplate Template = new(new ByteTokenizer(), 300, 301, 302, 303);

    static Conversation Chat(string? system, params string[] turns) => new(
        [.. (system is null ? [] : new[] { new ChatTurn(TurnRole.System, system) }),
         .. turns.Select((t, i) => new ChatTurn(i % 2 == 0 ? TurnRole.User : TurnRole.Assistant, t))]);

    [Fact]
    public void LengthsAreHandCounted()
    {
        var conversations = new[]
        {
            Chat(null, "hi", "hello"),                   // (1+2+1) + (1+5+1) + <|endoftext|> = 12; reply 5 + <|end|> = 6
            Chat("be brief", "q", "a", "again?", "yes"), // (1+8+1) + 3 + 3 + 8 + 5 + 1 = 30; replies 2 and 4
            Chat(null, new string('x', 50), "ok"),       // 52 + 4 + 1 = 57; reply 3
        };
        var stats = DialogueStatistics.Compute(conversations, Template, [64], "test");
        Assert.Equal("conversations", stats.Unit);
        Assert.Equal(new LengthSummary(3, 12, 30, 57, 57, 57, 57, 33), stats.Lengths);
        Assert.Equal(new LengthSummary(4, 2, 3, 6, 6, 6, 6, 3.75), stats.Replies);
        Assert.Equal(64, stats.Recommendation.Recommended);
        Assert.False(stats.Truncation[0].Dialogue!.Any);
        Assert.Equal(15, stats.Truncation[0].LossTokens);
    }

    [Fact]
    public void TruncationIsWhatFineTuningReports()
    {
        var random = new Random(3);
        string Text() => new('a', random.Next(1, 60));
        var conversations = Enumerable.Range(0, 40)
            .Select(i => Chat(i % 3 == 0 ? Text() : null, [.. Enumerable.Range(0, 2 * random.Next(1, 4)).Select(_ => Text())]))
            .ToList();
        int[] sizes = [16, 64, 128, 256];
        var stats = DialogueStatistics.Compute(conversations, Template, sizes, "test");
        Assert.Equal(sizes, stats.Truncation.Select(t => t.BlockSize));
        foreach (var row in stats.Truncation)
        {
            var expected = SftDatasetBuilder.Build(conversations, Template, row.BlockSize).Truncation!;
            Assert.Equal(expected, row.Dialogue);
            Assert.Equal((expected.Conversations, 40, expected.AssistantTokensLost, expected.AssistantTokens),
                (row.Truncated, row.Total, row.LossTokensLost, row.LossTokens));
            // Truncated exactly when the rendered conversation is longer than block_size + 1.
            Assert.Equal(conversations.Count(c => Template.Render(c).Ids.Length > row.BlockSize + 1), row.Truncated);
        }
        Assert.True(stats.Truncation[0].LossTokensLost > 0); // block 16 cuts replies
        Assert.True(stats.Truncation[0].Dialogue!.DroppedOldest > 0);
    }

    [Fact]
    public void NoConversationsIsAnError() =>
        Assert.Contains("f.jsonl: no conversations",
            Assert.Throws<GptSharpException>(() => DialogueStatistics.Compute([], Template, [64], "f.jsonl")).Message);
}
