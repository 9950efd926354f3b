using GptSharp.Tokenization;

namespace GptSharp.Data.Dialogues;

/// <summary>
/// Renders conversations with a <see cref="ChatTemplate"/> into examples of at most block_size + 1 tokens (a model
/// sees block_size inputs and predicts the block_size next tokens). A longer conversation loses whole user/assistant
/// exchanges from the start, keeping its system message, until it fits. If even the system message plus the last
/// exchange is too long, the last block_size + 1 tokens of that are kept, which still end with the reply's close.
/// Nothing is dropped; <see cref="SftDatasetStats"/> counts every truncation, and <see cref="SftDataset.Truncation"/>
/// says how much assistant text each kind cost.
/// </summary>
public static class SftDatasetBuilder
{
    /// <summary>
    /// The training and validation examples of a fine-tuning job: <paramref name="valConversations"/> when given, else a
    /// seeded <paramref name="valFraction"/> of <paramref name="conversations"/> (none at 0). Every truncation is added to
    /// <paramref name="notes"/> with the assistant text it cost, since the model never learns from what was cut.
    /// </summary>
    public static (SftDataset Train, SftDataset? Val) BuildSplit(IReadOnlyList<Conversation> conversations, IReadOnlyList<Conversation>? valConversations,
        ChatTemplate template, int blockSize, bool trainOnPrompt, double valFraction, long seed, string trainName, string? valName, List<string> notes)
    {
        var all = Build(conversations, template, blockSize, trainOnPrompt);
        SftDataset train;
        SftDataset? val;
        if (valConversations is not null)
            (train, val) = (all, Build(valConversations, template, blockSize, trainOnPrompt));
        else if (valFraction > 0)
        {
            var (t, v) = all.Split(valFraction, seed);
            (train, val) = (new SftDataset(t, all.Stats), v.Count > 0 ? new SftDataset(v, all.Stats) : null);
        }
        else (train, val) = (all, null);
        if (train.Examples.Count == 0) throw new GptSharpException($"{trainName}: no training conversations left after the validation split");
        if (all.Truncation is { Any: true } t1) notes.Add($"{trainName}: {t1}");
        if (valConversations is not null && val?.Truncation is { Any: true } t2) notes.Add($"{valName}: {t2}");
        return (train, val);
    }

    public static SftDataset Build(IEnumerable<Conversation> conversations, ChatTemplate template, int blockSize, bool trainOnPrompt = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 2);
        int maxLength = blockSize + 1;
        var examples = new List<SftExample>();
        int count = 0, truncated = 0, exchangesDropped = 0, tailTruncated = 0, anyTruncation = 0;
        long tokens = 0, lossTokens = 0, assistantTokens = 0, assistantLost = 0;

        foreach (var conversation in conversations)
        {
            count++;
            var pieces = conversation.Messages.Select(m => template.RenderMessage(m, trainOnPrompt)).ToList();
            // The assistant's tokens (reply text and its <|end|>) of each message, whatever trainOnPrompt says.
            int Assistant(int message) => conversation.Messages[message].Role == TurnRole.Assistant ? pieces[message].Ids.Length - 1 : 0;
            assistantTokens += Enumerable.Range(0, pieces.Count).Sum(Assistant);
            int systemCount = conversation.System is null ? 0 : 1;
            var exchangeStarts = ExchangeStarts(conversation.Messages, systemCount);

            int Length(int from) => 1 + pieces.Take(systemCount).Sum(p => p.Ids.Length) + pieces.Skip(from).Sum(p => p.Ids.Length);

            // Drop the oldest exchanges while too long, but always keep the last one.
            int dropped = 0;
            while (dropped < exchangeStarts.Count - 1 && Length(exchangeStarts[dropped]) > maxLength) dropped++;
            int keepFrom = exchangeStarts.Count == 0 ? systemCount : exchangeStarts[dropped];
            if (dropped > 0)
            {
                truncated++;
                exchangesDropped += dropped;
                assistantLost += Enumerable.Range(systemCount, keepFrom - systemCount).Sum(Assistant);
            }

            var ids = new List<int>();
            var mask = new List<bool>();
            var assistant = new List<bool>(); // which ids are the assistant's, to count what a cut loses
            foreach (int m in Enumerable.Range(0, systemCount).Concat(Enumerable.Range(keepFrom, pieces.Count - keepFrom)))
            {
                ChatTemplate.AppendMessage(pieces[m], ids, mask);
                bool replies = conversation.Messages[m].Role == TurnRole.Assistant;
                assistant.AddRange(pieces[m].Ids.Select((_, i) => replies && i > 0));
            }
            ids.Add(template.EndOfTextId);
            mask.Add(trainOnPrompt);

            bool cutInside = ids.Count > maxLength;
            if (cutInside)
            {
                tailTruncated++;
                int cut = ids.Count - maxLength;
                assistantLost += assistant.Take(cut).Count(a => a);
                ids.RemoveRange(0, cut);
                mask.RemoveRange(0, cut);
            }
            if (dropped > 0 || cutInside) anyTruncation++;
            var example = new SftExample([.. ids], [.. mask]);
            examples.Add(example);
            tokens += example.Ids.Length;
            lossTokens += example.LossTokens;
        }
        return new SftDataset(examples, new SftDatasetStats(count, examples.Count, truncated, exchangesDropped, tailTruncated, tokens, lossTokens))
        {
            Truncation = new SftTruncation(blockSize, anyTruncation, truncated, exchangesDropped, tailTruncated, assistantTokens, assistantLost),
        };
    }

    /// <summary>Indices of the messages that begin an exchange: each user turn that starts the dialogue or follows an assistant turn.</summary>
    static List<int> ExchangeStarts(IReadOnlyList<ChatTurn> messages, int first)
    {
        var starts = new List<int>();
        for (int i = first; i < messages.Count; i++)
            if (i == first || (messages[i].Role != TurnRole.Assistant && messages[i - 1].Role == TurnRole.Assistant))
                starts.Add(i);
        return starts;
    }
}
