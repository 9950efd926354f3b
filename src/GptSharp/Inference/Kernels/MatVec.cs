using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using X86Avx2 = System.Runtime.Intrinsics.X86.Avx2;

namespace GptSharp.Inference.Kernels;

/// <summary>
/// Matrix–vector products for one decoding row, y[n] = W[n, :]·x (+ bias), over the rows [n0, n1) a worker owns: the
/// kernels of issue 14's option (b). At batch 1 a token is one pass over every weight, so each kernel streams a row's
/// bytes front to back, one row after the other: a single sequential stream per thread, which the hardware prefetcher
/// follows at close to the memory bandwidth (reading several rows side by side, as a blocked GEMM does, ran at half of
/// it on our EPYC). Weights: float32 as <c>nn.Linear</c> holds them, bfloat16, or the 8- and 4-bit blocks of
/// <see cref="PackedWeights"/>, multiplied by the int8 activations of <see cref="QuantizedActivations"/> (llama.cpp's
/// q8_0 × q8_0 / q4_0 × q8_0 dot products; .NET has no AVX-512 VNNI, so the 8-bit products go through 16 bits).
/// Two widths: AVX-512 (<see cref="Avx512"/>) and AVX2 + FMA (<see cref="Avx2"/>, the <c>…256</c> methods, on the
/// same packed layout); on neither the engine does not use these.
/// </summary>
static unsafe class MatVec
{
    /// <summary>Whether this CPU runs the 512-bit kernels.</summary>
    public static bool Avx512 => Avx512F.IsSupported && Avx512BW.IsSupported && Avx512DQ.IsSupported;

    /// <summary>Whether this CPU runs the 256-bit kernels.</summary>
    public static bool Avx2 => X86Avx2.IsSupported && Fma.IsSupported;

    /// <summary>The widest kernels this CPU runs: 512, 256, or 0 (none).</summary>
    public static int Width => Avx512 ? 512 : Avx2 ? 256 : 0;

    /// <summary>8-bit <see cref="PackedWeights"/>, k a multiple of 64.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Int8(byte* w, QuantizedActivations x, float* y, float* bias, int n0, int n1, int k, bool accumulate)
    {
        int blocks = k / PackedWeights.Block;
        short* xq = x.Int16;
        float* d = stackalloc float[blocks];
        for (int n = n0; n < n1; n++)
        {
            var q = (sbyte*)Row(w, n, k, 8, x.Scales, d, out _);
            Vector512<float> a0 = default, a1 = default;
            int b = 0;
            for (; b + 4 <= blocks; b += 4)
            {
                a0 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Pair8(q + b * 32, xq + b * 32)), Pair(d + b), a0);
                a1 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Pair8(q + b * 32 + 64, xq + b * 32 + 64)), Pair(d + b + 2), a1);
            }
            if (b < blocks)
                a0 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Pair8(q + b * 32, xq + b * 32)), Pair(d + b), a0);
            Store(y, bias, n, Vector512.Sum(a0 + a1), accumulate);
        }
    }

    /// <summary>4-bit <see cref="PackedWeights"/>, k a multiple of 64.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Int4(byte* w, QuantizedActivations x, float* y, float* bias, int n0, int n1, int k, bool accumulate)
    {
        int blocks = k / PackedWeights.Block;
        sbyte* xq = x.Int8;
        float* offsets = x.Offsets, d = stackalloc float[blocks];
        var shifts = Vector512.Create(Vector256<ushort>.Zero, Vector256.Create((ushort)4));
        var ones = Vector512.Create((short)1);
        for (int n = n0; n < n1; n++)
        {
            byte* q = Row(w, n, k, 4, x.Scales, d, out float* ws);
            Vector512<float> a0 = default, a1 = default;
            int b = 0;
            for (; b + 4 <= blocks; b += 4)
            {
                a0 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Pair4(q + b * 16, Vector512.Load(xq + b * 32), shifts, ones)), Pair(d + b), a0);
                a1 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Pair4(q + b * 16 + 32, Vector512.Load(xq + b * 32 + 64), shifts, ones)), Pair(d + b + 2), a1);
            }
            if (b < blocks)
                a0 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Pair4(q + b * 16, Vector512.Load(xq + b * 32), shifts, ones)), Pair(d + b), a0);
            Store(y, bias, n, Vector512.Sum(a0 + a1) - Offset(ws, offsets, blocks), accumulate);
        }
    }

    /// <summary>The levels' +8 offset of a 4-bit row, taken off once per row: Σ_b w_scale_b · (8 · x_scale_b · Σ x_levels_b).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float Offset(float* scales, float* offsets, int blocks)
    {
        var sum = Vector256<float>.Zero; // 256 bits: both widths run this
        int i = 0;
        for (; i + 8 <= blocks; i += 8) sum = Fma.MultiplyAdd(Vector256.Load(scales + i), Vector256.Load(offsets + i), sum);
        float total = Vector256.Sum(sum);
        for (; i < blocks; i++) total += scales[i] * offsets[i];
        return total;
    }

    /// <summary>
    /// Float weights [N, k] row-major, k a multiple of 8, in 256-bit vectors at either width: the product only streams
    /// memory, and 512-bit vectors streamed it 5–15 % slower on our EPYC (three paired runs of GPT-2 124M).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Float32(float* w, float* x, float* y, float* bias, int n0, int n1, int k, bool accumulate)
    {
        for (int n = n0; n < n1; n++)
        {
            float* r = w + (long)n * k;
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            int i = 0;
            for (; i + 32 <= k; i += 32)
            {
                a0 = Fma.MultiplyAdd(Vector256.Load(r + i), Vector256.Load(x + i), a0);
                a1 = Fma.MultiplyAdd(Vector256.Load(r + i + 8), Vector256.Load(x + i + 8), a1);
                a2 = Fma.MultiplyAdd(Vector256.Load(r + i + 16), Vector256.Load(x + i + 16), a2);
                a3 = Fma.MultiplyAdd(Vector256.Load(r + i + 24), Vector256.Load(x + i + 24), a3);
            }
            for (; i < k; i += 8) a0 = Fma.MultiplyAdd(Vector256.Load(r + i), Vector256.Load(x + i), a0);
            Store(y, bias, n, Vector256.Sum((a0 + a1) + (a2 + a3)), accumulate);
        }
    }

    /// <summary>
    /// bfloat16 weights [N, k] row-major, k a multiple of 8: each 8 widened to float32 by a zero-extension and a 16-bit
    /// shift (a bf16 is a float32's upper half, so no BF16 instructions are needed), in 256-bit vectors at either width
    /// as <see cref="Float32"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void BFloat16(ushort* w, float* x, float* y, float* bias, int n0, int n1, int k, bool accumulate)
    {
        for (int n = n0; n < n1; n++)
        {
            ushort* r = w + (long)n * k;
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            int i = 0;
            for (; i + 32 <= k; i += 32)
            {
                a0 = Fma.MultiplyAdd(Widen(r + i), Vector256.Load(x + i), a0);
                a1 = Fma.MultiplyAdd(Widen(r + i + 8), Vector256.Load(x + i + 8), a1);
                a2 = Fma.MultiplyAdd(Widen(r + i + 16), Vector256.Load(x + i + 16), a2);
                a3 = Fma.MultiplyAdd(Widen(r + i + 24), Vector256.Load(x + i + 24), a3);
            }
            for (; i < k; i += 8) a0 = Fma.MultiplyAdd(Widen(r + i), Vector256.Load(x + i), a0);
            Store(y, bias, n, Vector256.Sum((a0 + a1) + (a2 + a3)), accumulate);
        }
    }

    /// <summary>Eight bfloat16 values as float32: each in the upper half of a 32-bit lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Widen(ushort* p) => X86Avx2.ShiftLeftLogical(X86Avx2.ConvertToVector256Int32(p), 16).AsSingle();

    /// <summary><see cref="Int8"/> in 256-bit vectors: each pair of blocks as four 16-weight products whose lanes
    /// alternate between the blocks as the 512-bit ones do.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Int8x256(byte* w, QuantizedActivations x, float* y, float* bias, int n0, int n1, int k, bool accumulate)
    {
        int blocks = k / PackedWeights.Block;
        short* xq = x.Int16;
        float* d = stackalloc float[blocks];
        for (int n = n0; n < n1; n++)
        {
            var q = (sbyte*)Row(w, n, k, 8, x.Scales, d, out _);
            Vector256<float> a0 = default;
            for (int b = 0; b < blocks; b += 2)
            {
                sbyte* p = q + b * 32;
                short* v = xq + b * 32;
                var sum = X86Avx2.MultiplyAddAdjacent(X86Avx2.ConvertToVector256Int16(p), Vector256.Load(v)) +
                          X86Avx2.MultiplyAddAdjacent(X86Avx2.ConvertToVector256Int16(p + 16), Vector256.Load(v + 16)) +
                          X86Avx2.MultiplyAddAdjacent(X86Avx2.ConvertToVector256Int16(p + 32), Vector256.Load(v + 32)) +
                          X86Avx2.MultiplyAddAdjacent(X86Avx2.ConvertToVector256Int16(p + 48), Vector256.Load(v + 48));
                a0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(sum), Pair256(d + b), a0);
            }
            Store(y, bias, n, Vector256.Sum(a0), accumulate);
        }
    }

    /// <summary><see cref="Int4"/> in 256-bit vectors: the low nibbles of a pair's 32 bytes, then the high ones.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Int4x256(byte* w, QuantizedActivations x, float* y, float* bias, int n0, int n1, int k, bool accumulate)
    {
        int blocks = k / PackedWeights.Block;
        sbyte* xq = x.Int8;
        float* offsets = x.Offsets, d = stackalloc float[blocks];
        var low = Vector256.Create((byte)0x0F);
        var ones = Vector256.Create((short)1);
        for (int n = n0; n < n1; n++)
        {
            byte* q = Row(w, n, k, 4, x.Scales, d, out float* ws);
            Vector256<float> a0 = default;
            for (int b = 0; b < blocks; b += 2)
            {
                var raw = Vector256.Load(q + b * 16);
                var lo = X86Avx2.MultiplyAddAdjacent(raw & low, Vector256.Load(xq + b * 32));
                var hi = X86Avx2.MultiplyAddAdjacent(Vector256.ShiftRightLogical(raw.AsUInt16(), 4).AsByte() & low, Vector256.Load(xq + b * 32 + 32));
                var sum = X86Avx2.MultiplyAddAdjacent(lo, ones) + X86Avx2.MultiplyAddAdjacent(hi, ones);
                a0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(sum), Pair256(d + b), a0);
            }
            Store(y, bias, n, Vector256.Sum(a0) - Offset(ws, offsets, blocks), accumulate);
        }
    }

    /// <summary>
    /// Two blocks' integer products, 64 weights: lanes alternate between the first block and the second (the packing's
    /// order), so both halves add up in integers and one float multiply by [scale₀, scale₁, …] finishes them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<int> Pair8(sbyte* q, short* x) =>
        Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.Load(q)), Vector512.Load(x)) +
        Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.Load(q + 32)), Vector512.Load(x + 32));

    /// <summary>
    /// 64 four-bit levels (0..15; weight = level − 8) from 32 bytes, low nibbles first, times the int8 activations:
    /// unsigned × signed byte products (at most 2·15·127, no saturation), summed by fours. The −8 is taken off per row
    /// (<see cref="QuantizedActivations.Offsets"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<int> Pair4(byte* q, Vector512<sbyte> x, Vector512<ushort> shifts, Vector512<short> ones)
    {
        // The 32 bytes loaded into both halves, the upper half shifted right by 4: no cross-lane shuffle per pair.
        var both = Avx512DQ.BroadcastVector256ToVector512((int*)q).AsUInt16();
        var levels = (Avx512BW.ShiftRightLogicalVariable(both, shifts) & Vector512.Create((ushort)0x0F0F)).AsByte();
        return Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(levels, x), ones);
    }

    /// <summary>Row <paramref name="n"/> of packed weights: its levels, its block scales (<paramref name="scales"/>),
    /// and their products with the activations' written to <paramref name="products"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static byte* Row(byte* w, int n, int k, int bits, float* activationScales, float* products, out float* scales)
    {
        int blocks = k / PackedWeights.Block;
        scales = (float*)(w + n * PackedWeights.RowBytes(k, bits));
        Products(scales, activationScales, products, blocks);
        return (byte*)(scales + blocks);
    }

    /// <summary>
    /// A row's block scales times the activations' (<paramref name="into"/>[b] = w_b · x_b), inline vector operations at
    /// the start of each row: a row is ~30 ns of streaming, so nothing per row may cost a call, and per pair of blocks
    /// the loop then only broadcasts one product pair (<see cref="Pair(float*)"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Products(float* weights, float* activations, float* into, int blocks)
    {
        int i = 0; // 256 bits: both widths run this
        for (; i + 8 <= blocks; i += 8) (Vector256.Load(weights + i) * Vector256.Load(activations + i)).Store(into + i);
        for (; i < blocks; i++) into[i] = weights[i] * activations[i];
    }

    /// <summary>[d₀, d₁] repeated: a pair of blocks' scale products, one per lane as <see cref="Pair8"/> and
    /// <see cref="Pair4"/> lay the blocks out (one 64-bit broadcast).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<float> Pair(float* products) => Vector512.Create(*(double*)products).AsSingle();

    /// <summary><see cref="Pair"/> for the 256-bit kernels.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector256<float> Pair256(float* products) => Vector256.Create(*(double*)products).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* y, float* bias, int n, float sum, bool accumulate)
    {
        if (bias != null) sum += bias[n];
        y[n] = accumulate ? y[n] + sum : sum;
    }
}
