using GptSharp.Data.Dialogues;

namespace GptSharp.Data.Statistics;

/// <summary>
/// What one candidate block size would cost: how many of the <see cref="Total"/> conversations or documents do not fit
/// block_size + 1 tokens, and how many of the <see cref="LossTokens"/> loss-bearing tokens that loses.
/// For dialogues these are exactly what fine-tuning reports (<see cref="Dialogue"/>, from <see cref="SftDatasetBuilder"/>):
/// the loss-bearing tokens are the assistant's. For documents (pretraining) every token bears loss; a document longer
/// than block_size + 1 tokens is never seen whole, and <see cref="LossTokensLost"/> counts its tokens past the first
/// block_size + 1 (pretraining windows still reach them, only without the document's start as context).
/// </summary>
public sealed record BlockSizeTruncation(int BlockSize, int Truncated, int Total, long LossTokensLost, long LossTokens)
{
    /// <summary>Fine-tuning's own account of the truncation, for dialogues; null for documents.</summary>
    public SftTruncation? Dialogue { get; init; }

    public double TruncatedFraction => Total == 0 ? 0 : (double)Truncated / Total;
    public double LostFraction => LossTokens == 0 ? 0 : (double)LossTokensLost / LossTokens;

    /// <summary>The row for conversations, from what <see cref="SftDatasetBuilder"/> did with them at this block size.</summary>
    public static BlockSizeTruncation FromFineTuning(SftTruncation t, int conversations) =>
        new(t.BlockSize, t.Conversations, conversations, t.AssistantTokensLost, t.AssistantTokens) { Dialogue = t };

    /// <summary>The row for documents of the given lengths (each counted with its end-of-text token).</summary>
    public static BlockSizeTruncation ForDocuments(int blockSize, IReadOnlyCollection<int> lengths)
    {
        int fit = blockSize + 1;
        return new(blockSize, lengths.Count(l => l > fit), lengths.Count, lengths.Where(l => l > fit).Sum(l => (long)(l - fit)),
            lengths.Sum(l => (long)l));
    }
}
