namespace GptSharp.Tuning.Samplers;

/// <summary>
/// A generator for one (seed, trial, parameter) draw: SplitMix64 (Steele, Lea &amp; Flood 2014, "Fast splittable
/// pseudorandom number generators") over a 64-bit hash of the three. <c>new Random(seed)</c> is .NET's legacy
/// subtractive generator, whose first outputs for nearby seeds are correlated: parameters of one trial, seeded by hashes
/// that differ in a few bits, came out correlated (|r| ≈ 0.7), which ruins random search and TPE's startup trials.
/// </summary>
internal sealed class SeededRandom : Random
{
    ulong _state;

    public SeededRandom(int seed, int trialNumber, string name)
    {
        // FNV-1a over the inputs, then a SplitMix64 step to spread every input bit over the state.
        ulong h = 14695981039346656037UL;
        void Add(ulong b) { h ^= b; h *= 1099511628211UL; }
        foreach (var v in new[] { seed, trialNumber })
            for (int k = 0; k < 4; k++) Add((ulong)(v >> (8 * k)) & 0xff);
        foreach (char ch in name) { Add((ulong)ch & 0xff); Add((ulong)ch >> 8); }
        _state = h;
        NextUInt64();
    }

    ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public override double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));
    protected override double Sample() => NextDouble();
    public override int Next() => (int)(NextUInt64() >> 33);
    public override int Next(int maxValue) => (int)NextInt64(0, maxValue);
    public override int Next(int minValue, int maxValue) => (int)NextInt64(minValue, maxValue);
    public override long NextInt64() => (long)(NextUInt64() >> 1);
    public override long NextInt64(long maxValue) => NextInt64(0, maxValue);

    public override long NextInt64(long minValue, long maxValue)
    {
        if (minValue > maxValue) throw new ArgumentOutOfRangeException(nameof(maxValue));
        ulong range = (ulong)(maxValue - minValue);
        if (range <= 1) return minValue;
        // Rejection keeps every value equally likely.
        ulong limit = ulong.MaxValue - ulong.MaxValue % range;
        ulong r;
        do r = NextUInt64(); while (r >= limit);
        return minValue + (long)(r % range);
    }

    public override void NextBytes(byte[] buffer) => NextBytes(buffer.AsSpan());

    public override void NextBytes(Span<byte> buffer)
    {
        for (int i = 0; i < buffer.Length; i++) buffer[i] = (byte)NextUInt64();
    }
}
