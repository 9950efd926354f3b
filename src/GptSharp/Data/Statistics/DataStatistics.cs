namespace GptSharp.Data.Statistics;

/// <summary>
/// Token-length statistics of a dialogue file (<see cref="DialogueStatistics"/>) or of text documents
/// (<see cref="TextStatistics"/>): the length distribution, the assistant replies' (dialogues only), a histogram, what each
/// candidate block size would truncate, and the recommended block_size.
/// </summary>
/// <param name="Unit">"conversations" or "documents".</param>
/// <param name="Lengths">Tokens per conversation (as the chat template renders it, &lt;|endoftext|&gt; included) or per
/// document (its tokens plus the end-of-text token that separates it).</param>
/// <param name="Replies">Tokens per assistant reply (its text and closing &lt;|end|&gt;, as the loss counts them); null for documents.</param>
public sealed record DataStatistics(string Unit, LengthSummary Lengths, LengthSummary? Replies, LengthHistogram Histogram,
    IReadOnlyList<BlockSizeTruncation> Truncation, BlockSizeRecommendation Recommendation);
