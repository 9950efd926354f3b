using GptSharp.Tokenization;

namespace GptSharp.Data;

/// <summary>
/// Renders conversations with a <see cref="ChatTemplate"/> into examples of at most block_size + 1 tokens (a model
/// sees block_size inputs and predicts the block_size next tokens). A longer conversation loses whole user/assistant
/// exchanges from the start, keeping its system message, until it fits. If even the system message plus the last
/// exchange is too long, the last block_size + 1 tokens of that are kept, which still end with the reply's close.
/// Nothing is dropped; <see cref="SftDatasetStats"/> counts every truncation.
/// </summary>
public static class SftDatasetBuilder
{
    public static SftDataset Build(IEnumerable<Conversation> conversations, ChatTemplate template, int blockSize, bool trainOnPrompt = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blockSize, 2);
        int maxLength = blockSize + 1;
        var examples = new List<SftExample>();
        int count = 0, truncated = 0, exchangesDropped = 0, tailTruncated = 0;
        long tokens = 0, lossTokens = 0;

        foreach (var conversation in conversations)
        {
            count++;
            var pieces = conversation.Messages.Select(m => template.RenderMessage(m, trainOnPrompt)).ToList();
            int systemCount = conversation.System is null ? 0 : 1;
            var exchangeStarts = ExchangeStarts(conversation.Messages, systemCount);

            int Length(int from) => 1 + pieces.Take(systemCount).Sum(p => p.Ids.Length) + pieces.Skip(from).Sum(p => p.Ids.Length);

            // Drop the oldest exchanges while too long, but always keep the last one.
            int dropped = 0;
            while (dropped < exchangeStarts.Count - 1 && Length(exchangeStarts[dropped]) > maxLength) dropped++;
            int keepFrom = exchangeStarts.Count == 0 ? systemCount : exchangeStarts[dropped];
            if (dropped > 0) { truncated++; exchangesDropped += dropped; }

            var ids = new List<int>();
            var mask = new List<bool>();
            foreach (var piece in pieces.Take(systemCount).Concat(pieces.Skip(keepFrom))) ChatTemplate.AppendMessage(piece, ids, mask);
            ids.Add(template.EndOfTextId);
            mask.Add(trainOnPrompt);

            if (ids.Count > maxLength)
            {
                tailTruncated++;
                ids.RemoveRange(0, ids.Count - maxLength);
                mask.RemoveRange(0, mask.Count - maxLength);
            }
            var example = new SftExample([.. ids], [.. mask]);
            examples.Add(example);
            tokens += example.Ids.Length;
            lossTokens += example.LossTokens;
        }
        return new SftDataset(examples, new SftDatasetStats(count, examples.Count, truncated, exchangesDropped, tailTruncated, tokens, lossTokens));
    }

    /// <summary>Indices of the messages that begin an exchange: each user turn that starts the dialogue or follows an assistant turn.</summary>
    static List<int> ExchangeStarts(IReadOnlyList<ChatMessage> messages, int first)
    {
        var starts = new List<int>();
        for (int i = first; i < messages.Count; i++)
            if (i == first || (messages[i].Role != ChatRole.Assistant && messages[i - 1].Role == ChatRole.Assistant))
                starts.Add(i);
        return starts;
    }
}
