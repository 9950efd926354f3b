namespace GptSharp.Tokenization;

/// <summary>
/// One fine-tuning sequence: token ids and, per token, whether predicting it counts in the loss. The first token is
/// never predicted (nothing comes before it), so <c>LossMask[0]</c> has no effect.
/// </summary>
public sealed record SftExample(int[] Ids, bool[] LossMask)
{
    /// <summary>How many tokens count in the loss (position 0 excluded).</summary>
    public int LossTokens => LossMask.Skip(1).Count(m => m);
}
