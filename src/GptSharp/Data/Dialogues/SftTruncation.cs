using System.Globalization;

namespace GptSharp.Data.Dialogues;

/// <summary>
/// How <see cref="SftDatasetBuilder"/> made conversations fit block_size + 1 tokens, and how much of the assistant's
/// text that cost, so no truncation goes unreported. A conversation can both lose its oldest exchanges and then be cut
/// inside the exchange left; <see cref="Conversations"/> counts it once.
/// </summary>
/// <param name="BlockSize">The block size the conversations had to fit.</param>
/// <param name="Conversations">Conversations truncated in any way.</param>
/// <param name="DroppedOldest">Conversations that lost their oldest user/assistant exchanges.</param>
/// <param name="ExchangesDropped">Exchanges those lost, in all.</param>
/// <param name="CutSingle">Conversations whose last exchange (with the system message) was still too long, so only its
/// last block_size + 1 tokens were kept.</param>
/// <param name="AssistantTokens">Assistant tokens (reply text and its &lt;|end|&gt;) in all conversations, before truncation.</param>
/// <param name="AssistantTokensLost">Assistant tokens that truncation removed, dropped or cut.</param>
public sealed record SftTruncation(int BlockSize, int Conversations, int DroppedOldest, int ExchangesDropped, int CutSingle,
    long AssistantTokens, long AssistantTokensLost)
{
    public static SftTruncation None(int blockSize, long assistantTokens = 0) => new(blockSize, 0, 0, 0, 0, assistantTokens, 0);

    /// <summary>True when any conversation was truncated.</summary>
    public bool Any => Conversations > 0;

    /// <summary>The share of assistant tokens lost, from 0 to 1.</summary>
    public double LostFraction => AssistantTokens == 0 ? 0 : (double)AssistantTokensLost / AssistantTokens;

    /// <summary>E.g. "3 conversations truncated to fit block_size 128: 1 dropped oldest exchanges (5 exchanges),
    /// 2 cut single exchanges; 412 assistant tokens of 9,100 lost (4.5 %)".</summary>
    public override string ToString() => !Any
        ? $"no conversation truncated to fit block_size {BlockSize}"
        : string.Create(CultureInfo.InvariantCulture,
            $"{Conversations} conversation{(Conversations == 1 ? "" : "s")} truncated to fit block_size {BlockSize}: " +
            $"{DroppedOldest} dropped oldest exchanges ({ExchangesDropped} exchange{(ExchangesDropped == 1 ? "" : "s")}), " +
            $"{CutSingle} cut single exchanges; {AssistantTokensLost:N0} assistant tokens of {AssistantTokens:N0} lost ({LostFraction * 100:0.0} %)");
}
