namespace GptSharp.Data.Statistics;

/// <summary>The block sizes compared: 64, 128, 256, 512 and 1024, capped at the model's context (n_positions) when known.</summary>
public static class BlockSizeCandidates
{
    public const int Step = 64;
    public static IReadOnlyList<int> Standard { get; } = [64, 128, 256, 512, 1024];

    /// <summary>The standard sizes up to <paramref name="contextLength"/>, plus the context length itself when it is
    /// not one of them (so the largest block the model allows is always shown).</summary>
    public static IReadOnlyList<int> For(int? contextLength)
    {
        if (contextLength is not int n) return Standard;
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 2);
        var sizes = Standard.Where(s => s <= n).ToList();
        if (!sizes.Contains(n)) sizes.Add(n);
        return sizes;
    }

    /// <summary><paramref name="tokens"/> rounded up to a multiple of 64 (at least 64).</summary>
    public static int RoundUp(int tokens) => Math.Max(Step, (int)((tokens + (long)Step - 1) / Step * Step));
}
