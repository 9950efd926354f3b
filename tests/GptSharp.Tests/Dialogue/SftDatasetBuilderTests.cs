using GptSharp.Data;
using GptSharp.Tokenization;

namespace GptSharp.Tests.Dialogue;

public class SftDatasetBuilderTests
{
    readonly BpeTokenizer _tokenizer = BpeTokenizer.Gpt2();
    readonly ChatTemplate _template = new(BpeTokenizer.Gpt2());

    static Conversation Dialogue(string? system, int exchanges, string prefix = "")
    {
        var messages = new List<ChatMessage>();
        if (system is not null) messages.Add(new(ChatRole.System, system));
        for (int i = 0; i < exchanges; i++)
        {
            messages.Add(new(ChatRole.User, $"{prefix}question {i} about things"));
            messages.Add(new(ChatRole.Assistant, $"{prefix}answer {i} with some detail"));
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
        var conversation = new Conversation([new(ChatRole.User, "Tell me a long story."),
            new(ChatRole.Assistant, string.Join(' ', Enumerable.Range(0, 60).Select(i => $"word{i}")))]);
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
    public void TrainOnPromptIsPassedThrough()
    {
        var dataset = SftDatasetBuilder.Build([Dialogue(null, 1)], _template, 128, trainOnPrompt: true);
        Assert.Equal(dataset.Examples[0].Ids.Length - 1, dataset.Stats.LossTokens);
    }
}
