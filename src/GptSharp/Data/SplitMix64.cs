namespace GptSharp.Data;

/// <summary>
/// A tiny seeded generator (SplitMix64) whose whole state is one number, so samplers can save it and resume exactly.
/// Same seed, same sequence, on every platform and .NET version (unlike System.Random's unspecified algorithm).
/// </summary>
public sealed class SplitMix64(ulong state)
{
    public ulong State { get; set; } = state;

    public ulong NextUInt64()
    {
        ulong z = State += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, <paramref name="exclusiveMax"/>), without modulo bias.</summary>
    public long NextInt64(long exclusiveMax)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(exclusiveMax);
        ulong bound = (ulong)exclusiveMax;
        ulong limit = ulong.MaxValue - ulong.MaxValue % bound; // reject the last partial range
        ulong r;
        do r = NextUInt64(); while (r >= limit);
        return (long)(r % bound);
    }
}
