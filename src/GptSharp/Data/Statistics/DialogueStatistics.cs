using GptSharp.Data.Dialogues;
using GptSharp.Tokenization;

namespace GptSharp.Data.Statistics;

/// <summary>
/// Length statistics of conversations as fine-tuning sees them: each rendered by the <see cref="ChatTemplate"/>, and each
/// candidate block size truncated by <see cref="SftDatasetBuilder"/> itself, so the counts are the ones a fine-tuning run
/// with that block_size reports.
/// </summary>
public static class DialogueStatistics
{
    /// <param name="source">Names the conversations in errors (usually the file).</param>
    public static DataStatistics Compute(IReadOnlyList<Conversation> conversations, ChatTemplate template, IReadOnlyList<int> blockSizes,
        string source, int? maxPromptReply = null, int? contextLength = null)
    {
        if (conversations.Count == 0) throw new GptSharpException($"{source}: no conversations");
        var lengths = conversations.Select(c => template.Render(c).Ids.Length).ToArray();
        var replies = conversations.SelectMany(c => c.Messages).Where(m => m.Role == TurnRole.Assistant)
            .Select(m => template.RenderMessage(m).Ids.Length - 1); // reply text and <|end|>, not the role token
        var summary = LengthSummary.Of(lengths, "conversations");
        var truncation = blockSizes
            .Select(b => BlockSizeTruncation.FromFineTuning(SftDatasetBuilder.Build(conversations, template, b).Truncation!, conversations.Count))
            .ToList();
        return new DataStatistics("conversations", summary, LengthSummary.Of(replies, "assistant replies"), LengthHistogram.Of(lengths),
            truncation, BlockSizeRecommendation.For(summary, maxPromptReply, contextLength));
    }
}
