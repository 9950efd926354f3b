using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace GptSharp.Inference.Kernels;

/// <summary>
/// A row of activations quantised for <see cref="MatVec"/>'s integer products, as llama.cpp's q8_0 and
/// <c>MatMulNBits</c>' accuracy level 4 do: per block of 32, scale = max|x| / 127 and levels round(x / scale), laid out in
/// <see cref="PackedWeights"/>' order (as 16-bit values for 8-bit weights, bytes for 4-bit ones, with
/// <see cref="LevelSums"/>: per block, 8 × its levels' sum, what 4-bit levels stored with +8 add, before the scales).
/// </summary>
sealed unsafe class QuantizedActivations : IDisposable
{
    readonly void* _memory;

    public QuantizedActivations(int capacity)
    {
        if (capacity % (2 * PackedWeights.Block) != 0) throw new ArgumentException($"a multiple of {2 * PackedWeights.Block}", nameof(capacity));
        long scales = capacity / PackedWeights.Block * sizeof(float), int16 = capacity * 2L, int8 = capacity, sums = scales;
        _memory = NativeMemory.AlignedAlloc((nuint)(scales + int16 + int8 + sums + 4 * 64), 64);
        byte* p = (byte*)_memory;
        Scales = (float*)p;
        Int16 = (short*)(p += Align(scales));
        Int8 = (sbyte*)(p += Align(int16));
        LevelSums = (float*)(p + Align(int8));
        Capacity = capacity;
    }

    static long Align(long bytes) => (bytes + 63) & ~63L;

    public int Capacity { get; }
    public float* Scales { get; }
    public short* Int16 { get; }
    public sbyte* Int8 { get; }
    public float* LevelSums { get; }

    /// <summary>Quantises x[0..k) for weights of <paramref name="bits"/> (8 or 4); <paramref name="wide"/>: with AVX-512
    /// instructions (the 512-bit kernels' machines), else element by element, to the same levels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Quantize(float* x, int k, int bits, bool wide)
    {
        if (k > Capacity || k % (2 * PackedWeights.Block) != 0) throw new ArgumentOutOfRangeException(nameof(k));
        if (!wide || !Avx512Vbmi.IsSupported)
        {
            QuantizeScalar(x, k, bits);
            return;
        }
        const int block = PackedWeights.Block;
        short* levels = stackalloc short[2 * block];
        for (int b = 0; b < k / block; b += 2)
        {
            // Each block's levels, in natural order.
            for (int half = 0; half < 2; half++)
            {
                float* from = x + (b + half) * block;
                var v0 = Vector512.Load(from);
                var v1 = Vector512.Load(from + 16);
                var m = Vector512.Max(Vector512.Abs(v0), Vector512.Abs(v1));
                var m128 = Vector128.Max(Vector256.Max(m.GetLower(), m.GetUpper()).GetLower(), Vector256.Max(m.GetLower(), m.GetUpper()).GetUpper());
                float max = MathF.Max(MathF.Max(m128[0], m128[1]), MathF.Max(m128[2], m128[3]));
                Scales[b + half] = max / 127f;
                var inverse = Vector512.Create(max > 0 ? 127f / max : 0f);
                // Rounded to nearest, ties to even (the default MXCSR mode); |x|·127/max ≤ 127 needs no clamp.
                Avx512F.ConvertToVector256Int16(Avx512F.ConvertToVector512Int32(v0 * inverse)).Store(levels + half * block);
                Avx512F.ConvertToVector256Int16(Avx512F.ConvertToVector512Int32(v1 * inverse)).Store(levels + half * block + 16);
            }
            if (bits == 8)
            {
                var first = Vector512.Load(levels);
                var second = Vector512.Load(levels + block);
                Avx512BW.PermuteVar32x16x2(first, Order8Low, second).Store(Int16 + b * block);
                Avx512BW.PermuteVar32x16x2(first, Order8High, second).Store(Int16 + b * block + block);
            }
            else
            {
                var bytes = Vector512.Create(Avx512BW.ConvertToVector256SByte(Vector512.Load(levels)), Avx512BW.ConvertToVector256SByte(Vector512.Load(levels + block)));
                Avx512Vbmi.PermuteVar64x8(bytes, Order4Bytes).Store(Int8 + b * block);
            }
            if (bits == 4)
                for (int half = 0; half < 2; half++)
                    LevelSums[b + half] = 8f * Vector512.Sum(Vector512.Load(levels + half * block));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void QuantizeScalar(float* x, int k, int bits)
    {
        const int block = PackedWeights.Block;
        var order = bits == 8 ? PackedWeights.Order8 : PackedWeights.Order4;
        short* levels = stackalloc short[2 * block];
        for (int b = 0; b < k / block; b += 2)
        {
            for (int half = 0; half < 2; half++)
            {
                float* from = x + (b + half) * block;
                float max = 0;
                for (int i = 0; i < block; i++) max = MathF.Max(max, MathF.Abs(from[i]));
                Scales[b + half] = max / 127f;
                float inverse = max > 0 ? 127f / max : 0f;
                int sum = 0;
                for (int i = 0; i < block; i++) sum += levels[half * block + i] = (short)MathF.Round(from[i] * inverse);
                if (bits == 4) LevelSums[b + half] = 8f * sum;
            }
            for (int P = 0; P < 2 * block; P++)
                if (bits == 8) Int16[b * block + P] = levels[order[P]];
                else Int8[b * block + P] = (sbyte)levels[order[P]];
        }
    }

    static readonly Vector512<short> Order8Low = Vector512.Create(PackedWeights.Order8.Take(32).Select(i => (short)i).ToArray());
    static readonly Vector512<short> Order8High = Vector512.Create(PackedWeights.Order8.Skip(32).Select(i => (short)i).ToArray());
    static readonly Vector512<sbyte> Order4Bytes = Vector512.Create(PackedWeights.Order4.Select(i => (sbyte)i).ToArray());

    bool _disposed;

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        NativeMemory.AlignedFree(_memory);
        GC.SuppressFinalize(this);
    }

    ~QuantizedActivations()
    {
        if (!_disposed) NativeMemory.AlignedFree(_memory);
    }
}
