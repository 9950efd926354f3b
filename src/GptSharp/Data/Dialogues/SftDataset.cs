using GptSharp.Tokenization;
namespace GptSharp.Data.Dialogues;

/// <summary>What <see cref="SftDatasetBuilder"/> did, so truncation is never silent.</summary>
/// <param name="Conversations">Conversations read.</param>
/// <param name="Examples">Examples produced (one per conversation: none is dropped).</param>
/// <param name="Truncated">Examples that lost their oldest user/assistant exchanges to fit block_size + 1 tokens.</param>
/// <param name="ExchangesDropped">User/assistant exchanges removed by that truncation, in all.</param>
/// <param name="TailTruncated">Examples whose last exchange alone (with the system message) was too long, so only the
/// last block_size + 1 tokens were kept.</param>
/// <param name="Tokens">Tokens in all examples.</param>
/// <param name="LossTokens">Tokens that count in the loss.</param>
public sealed record SftDatasetStats(int Conversations, int Examples, int Truncated, int ExchangesDropped, int TailTruncated, long Tokens, long LossTokens)
{
    public override string ToString() =>
        $"{Examples} examples from {Conversations} conversations, {Tokens} tokens ({LossTokens} in the loss); " +
        $"{Truncated} truncated (dropped {ExchangesDropped} oldest exchanges), {TailTruncated} cut to their last block_size + 1 tokens";
}

/// <summary>Fine-tuning examples with the statistics of how they were built.</summary>
public sealed record SftDataset(IReadOnlyList<SftExample> Examples, SftDatasetStats Stats)
{
    /// <summary>What truncation cost, when the builder made the set (unknown, so none, otherwise).</summary>
    public SftTruncation? Truncation { get; init; }

    /// <summary>The examples at <paramref name="indices"/>, in that order (stats describe the whole set).</summary>
    public IReadOnlyList<SftExample> Select(IEnumerable<int> indices) => [.. indices.Select(i => Examples[i])];

    /// <summary>A seeded train/validation split by ratio (see <see cref="SftSplits.TrainValidation"/>).</summary>
    public (IReadOnlyList<SftExample> Train, IReadOnlyList<SftExample> Val) Split(double valRatio, long seed)
    {
        var (train, val) = SftSplits.TrainValidation(Examples.Count, valRatio, seed);
        return (Select(train), Select(val));
    }

    /// <summary>Fold <paramref name="fold"/> of <paramref name="k"/> for cross-validation (see <see cref="SftSplits.KFold"/>).</summary>
    public (IReadOnlyList<SftExample> Train, IReadOnlyList<SftExample> Val) KFold(int k, int fold, long seed)
    {
        var (train, val) = SftSplits.KFold(Examples.Count, k, fold, seed);
        return (Select(train), Select(val));
    }
}
