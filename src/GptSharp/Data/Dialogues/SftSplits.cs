namespace GptSharp.Data.Dialogues;

/// <summary>
/// Seeded, deterministic splits of example indices: a train/validation split by ratio and k-fold cross-validation.
/// Both shuffle with <see cref="SplitMix64"/>, so the same seed gives the same split everywhere; index sets are sorted.
/// </summary>
public static class SftSplits
{
    /// <summary>
    /// Validation gets round(count × <paramref name="valRatio"/>) examples, at least one when the ratio is positive and
    /// at least one left for training.
    /// </summary>
    public static (int[] Train, int[] Val) TrainValidation(int count, double valRatio, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (!(valRatio >= 0 && valRatio < 1))
            throw new GptSharpException($"validation ratio must be in [0, 1), got {valRatio}");
        int valCount = (int)Math.Round(count * valRatio, MidpointRounding.AwayFromZero);
        if (valRatio > 0 && valCount == 0 && count >= 2) valCount = 1;
        if (valCount >= count && count > 0) valCount = count - 1;
        var order = Permutation(count, seed);
        return (Sorted(order[valCount..]), Sorted(order[..valCount]));
    }

    /// <summary>
    /// Fold <paramref name="fold"/> (0-based) of <paramref name="k"/>: the shuffled indices are dealt into k folds of
    /// sizes differing by at most one; fold <paramref name="fold"/> validates, the rest train. Over all folds every
    /// index is validated exactly once.
    /// </summary>
    public static (int[] Train, int[] Val) KFold(int count, int k, int fold, long seed)
    {
        if (k < 2) throw new GptSharpException($"k-fold needs k >= 2, got {k}");
        if (fold < 0 || fold >= k) throw new GptSharpException($"fold must be in [0, {k - 1}], got {fold}");
        if (count < k) throw new GptSharpException($"{k}-fold cross-validation needs at least {k} examples, got {count}");
        var order = Permutation(count, seed);
        var train = new List<int>();
        var val = new List<int>();
        for (int i = 0; i < count; i++) (i % k == fold ? val : train).Add(order[i]);
        return (Sorted([.. train]), Sorted([.. val]));
    }

    /// <summary>A seeded Fisher–Yates shuffle of 0 .. count - 1.</summary>
    public static int[] Permutation(int count, long seed)
    {
        var order = new int[count];
        for (int i = 0; i < count; i++) order[i] = i;
        var random = new SplitMix64((ulong)seed);
        for (int i = count - 1; i > 0; i--)
        {
            int j = (int)random.NextInt64(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    static int[] Sorted(int[] indices)
    {
        Array.Sort(indices);
        return indices;
    }
}
