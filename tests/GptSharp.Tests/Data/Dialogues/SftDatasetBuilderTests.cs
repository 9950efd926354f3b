using GptSharp.Tokenization;
using GptSharp.Data.Dialogues;

namespace GptSharp.Tests.Data.Dialogues;

public class SftDatasetBuilderTests
{
    readonly BpeTokenizer _tokenizer = BpeTokenizer.Gpt2();
    readonly ChatTemplate _template = new(BpeTokenizer.Gpt2());

    static Conversation Dialogue(string? system, int exchanges, string prefix = "")
    {
        var messages = new List<ChatTurn>();
        if (system is not null) messages.Add(new(TurnRole.System, system));
        for (int i = 0; i < exchanges; i++)
        {
            messages.Add(new(TurnRole.User, $"{prefix}question {i} about things"));
            messages.Add(new(TurnRole.Assistant, $"{prefix}answer {i} with some detail"));
        }
        return new Conversation(messages);
    }

    [Fact]
    public void ShortConversationsAreRenderedWhole()
    {
        var conversations = new[] { Dialogue("Be kind.", 2), Dialogue(null, 1) };
        var dataset = SftDatasetBuilder.Build(conversations, _template, blockSize: 256);
        Assert.Equal(2, dataset.Examples.Count);
        Assert.Equal(_template.Render(conversations[0]).Ids, dataset.Examples[0].Ids);
        Assert.Equal(_template.Render(conversations[0]).LossMask, dataset.Examples[0].LossMask);
        Assert.Equal(new SftDatasetStats(2, 2, 0, 0, 0, dataset.Examples.Sum(e => e.Ids.Length), dataset.Examples.Sum(e => e.LossTokens)), dataset.Stats);
    }

    [Fact]
    public void LongConversationsLoseTheirOldestExchangesButKeepTheSystemMessage()
    {
        var conversation = Dialogue("You are a careful assistant.", 6);
        int full = _template.Render(conversation).Ids.Length;
        var lastTwo = new Conversation([conversation.Messages[0], .. conversation.Messages.Skip(1 + 4 * 2)]);
        int lastTwoLength = _template.Render(lastTwo).Ids.Length;
        var lastThree = new Conversation([conversation.Messages[0], .. conversation.Messages.Skip(1 + 3 * 2)]);
        Assert.True(_template.Render(lastThree).Ids.Length > lastTwoLength);

        // A block that fits the system message and the last two exchanges, not three.
        int blockSize = lastTwoLength - 1;
        Assert.True(full > blockSize + 1);
        var dataset = SftDatasetBuilder.Build([conversation, Dialogue(null, 1)], _template, blockSize);

        Assert.Equal(_template.Render(lastTwo).Ids, dataset.Examples[0].Ids);
        Assert.Equal(_template.Render(lastTwo).LossMask, dataset.Examples[0].LossMask);
        Assert.Equal(_template.SystemId, dataset.Examples[0].Ids[0]);
        Assert.Equal(1, dataset.Stats.Truncated);
        Assert.Equal(4, dataset.Stats.ExchangesDropped);
        Assert.Equal(0, dataset.Stats.TailTruncated);
        Assert.Equal(2, dataset.Stats.Examples);
        Assert.All(dataset.Examples, e => Assert.True(e.Ids.Length <= blockSize + 1));
    }

    [Fact]
    public void WhenEvenTheLastExchangeIsTooLongTheTailIsKept()
    {
        var conversation = new Conversation([new(TurnRole.User, "Tell me a long story."),
            new(TurnRole.Assistant, string.Join(' ', Enumerable.Range(0, 60).Select(i => $"word{i}")))]);
        var whole = _template.Render(conversation);
        const int blockSize = 31;
        var dataset = SftDatasetBuilder.Build([conversation], _template, blockSize);

        var example = Assert.Single(dataset.Examples);
        Assert.Equal(blockSize + 1, example.Ids.Length);
        Assert.Equal(whole.Ids[^(blockSize + 1)..], example.Ids);
        Assert.Equal(whole.LossMask[^(blockSize + 1)..], example.LossMask);
        Assert.Equal([_template.EndId, _template.EndOfTextId], example.Ids[^2..]);
        Assert.True(example.LossTokens > 0);
        Assert.Equal(1, dataset.Stats.TailTruncated);
        Assert.Equal(0, dataset.Stats.Truncated);
        Assert.Contains("1 cut to their last block_size + 1 tokens", dataset.Stats.ToString());
    }

    [Fact]
    public void EveryTruncationIsCountedWithTheAssistantTextItCost()
    {
        const int blockSize = 31;
        string Words(int n, string stem) => string.Join(' ', Enumerable.Range(0, n).Select(i => $"{stem}{i}"));
        var longReply = new Conversation([new(TurnRole.User, "Tell me a story."), new(TurnRole.Assistant, Words(40, "word"))]);
        var longQuestion = new Conversation([new(TurnRole.User, Words(40, "why")), new(TurnRole.Assistant, "Because.")]);
        var multiTurn = Dialogue("Be kind.", 4);
        var conversations = new[] { longReply, Dialogue(null, 1), longQuestion, multiTurn };
        var dataset = SftDatasetBuilder.Build(conversations, _template, blockSize);

        int AssistantTokens(Conversation c) => c.Messages.Where(m => m.Role == TurnRole.Assistant).Sum(m => _tokenizer.Encode(m.Content).Length + 1);
        long total = conversations.Sum(AssistantTokens);
        // The long reply keeps its last blockSize tokens before <|endoftext|> (reply text and <|end|>); the long question
        // loses only question tokens; the multi-turn dialogue loses whole exchanges, and every reply in them.
        int replyLost = AssistantTokens(longReply) - blockSize;
        int exchangesDropped = dataset.Stats.ExchangesDropped;
        Assert.InRange(exchangesDropped, 1, 3);
        int dialogueLost = multiTurn.Messages.Skip(1).Take(2 * exchangesDropped).Where(m => m.Role == TurnRole.Assistant)
            .Sum(m => _tokenizer.Encode(m.Content).Length + 1);
        Assert.Equal(new SftTruncation(blockSize, 3, 1, exchangesDropped, 2, total, replyLost + dialogueLost), dataset.Truncation);
        double percent = 100.0 * (replyLost + dialogueLost) / total;
        Assert.Equal(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"3 conversations truncated to fit block_size 31: 1 dropped oldest exchanges ({exchangesDropped} exchange{(exchangesDropped == 1 ? "" : "s")}), " +
            $"2 cut single exchanges; {replyLost + dialogueLost} assistant tokens of {total} lost ({percent:0.0} %)"), dataset.Truncation!.ToString());
    }

    [Fact]
    public void NothingTruncatedSaysSo()
    {
        var dataset = SftDatasetBuilder.Build([Dialogue(null, 1)], _template, 128);
        Assert.False(dataset.Truncation!.Any);
        Assert.Equal(0, dataset.Truncation.AssistantTokensLost);
        Assert.True(dataset.Truncation.AssistantTokens > 0);
    }

    [Fact]
    public void TrainOnPromptIsPassedThrough()
    {
        var dataset = SftDatasetBuilder.Build([Dialogue(null, 1)], _template, 128, trainOnPrompt: true);
        Assert.Equal(dataset.Examples[0].Ids.Length - 1, dataset.Stats.LossTokens);
    }
}
