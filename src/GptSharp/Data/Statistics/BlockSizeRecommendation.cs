namespace GptSharp.Data.Statistics;

/// <summary>
/// The block_size to train with.
/// <list type="bullet">
/// <item><see cref="DataDriven"/>: the smallest multiple of 64 (at least 64) whose block holds p95 of the conversation
/// (or document) lengths, the nearest-rank 95th percentile of <see cref="LengthSummary"/>. A conversation of L rendered
/// tokens (its final &lt;|endoftext|&gt; included) is used whole when L ≤ block_size + 1, the rule of
/// <c>SftDatasetBuilder</c>, so this is the smallest multiple of 64 with block_size + 1 ≥ p95: at least 95 % of the
/// conversations are then not truncated at all and lose no assistant text.</item>
/// <item><see cref="TaskDriven"/>: when the user gives the longest prompt + reply N (tokens) the model must serve, N rounded
/// up to a multiple of 64.</item>
/// </list>
/// <see cref="Recommended"/> is the larger of the two (it must both cover the data and serve the task), capped at the model's
/// context length when one is known (<see cref="Capped"/> then says the wanted size did not fit).
/// </summary>
public sealed record BlockSizeRecommendation(int DataDriven, int? TaskDriven, int Recommended, int? ContextLength, bool Capped)
{
    public static BlockSizeRecommendation For(LengthSummary lengths, int? maxPromptReply = null, int? contextLength = null)
    {
        if (maxPromptReply is < 1) throw new GptSharpException($"--max-prompt-reply must be at least 1 (got {maxPromptReply})");
        int data = BlockSizeCandidates.RoundUp(lengths.P95 - 1);
        int? task = maxPromptReply is int n ? BlockSizeCandidates.RoundUp(n) : null;
        int wanted = Math.Max(data, task ?? 0);
        bool capped = contextLength is int c && wanted > c;
        return new(data, task, capped ? contextLength!.Value : wanted, contextLength, capped);
    }

    /// <summary>The line to paste into a training config.</summary>
    public string ConfigLine => $"\"block_size\": {Recommended}";
}
