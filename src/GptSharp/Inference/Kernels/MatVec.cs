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
            var q = (sbyte*)Row(w, n, k, 8, x.Scales, d);
            Vector512<float> a0 = default, a1 = default;
            int b = 0;
            for (; b + 4 <= blocks; b += 4)
            {
                a0 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Pair8(q + b * 32, xq + b * 32)), Pair(d + b), a0);
                a1 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Pair8(q + b * 32 + 64, xq + b * 32 + 64)), Pair(d + b + 2), a1);
            }
            if (b < blocks)
                a0 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Pair8(q + b * 32, xq + b * 32)), Pair(d + b), a0);
            Store(y, bias, n, Sum(a0 + a1), accumulate);
        }
    }

    /// <summary>4-bit <see cref="PackedWeights"/>, k a multiple of 64.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Int4(byte* w, QuantizedActivations x, float* y, float* bias, int n0, int n1, int k, bool accumulate)
    {
        int blocks = k / PackedWeights.Block;
        sbyte* xq = x.Int8;
        float* d = stackalloc float[blocks];
        var ones = Vector512.Create((short)1);
        var nibbles = Gfni.V512.IsSupported ? Nibbles : Shifts;
        for (int n = n0; n < n1; n++)
        {
            byte* q = Row4(w, n, k, x, d, out var offset, out float rest);
            Vector512<float> a0 = Vector512.Create(-offset, Vector256<float>.Zero), a1 = default;
            int b = 0;
            for (; b + 4 <= blocks; b += 4)
            {
                a0 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Pair4(q + b * 16, Vector512.Load(xq + b * 32), nibbles, ones)), Pair(d + b), a0);
                a1 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Pair4(q + b * 16 + 32, Vector512.Load(xq + b * 32 + 64), nibbles, ones)), Pair(d + b + 2), a1);
            }
            if (b < blocks)
                a0 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(Pair4(q + b * 16, Vector512.Load(xq + b * 32), nibbles, ones)), Pair(d + b), a0);
            Store(y, bias, n, Sum(a0 + a1) - rest, accumulate);
        }
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
            Store(y, bias, n, Sum((a0 + a1) + (a2 + a3)), accumulate);
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
            Store(y, bias, n, Sum((a0 + a1) + (a2 + a3)), accumulate);
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
            var q = (sbyte*)Row(w, n, k, 8, x.Scales, d);
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
            Store(y, bias, n, Sum(a0), accumulate);
        }
    }

    /// <summary><see cref="Int4"/> in 256-bit vectors: the low nibbles of a pair's 32 bytes, then the high ones.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Int4x256(byte* w, QuantizedActivations x, float* y, float* bias, int n0, int n1, int k, bool accumulate)
    {
        int blocks = k / PackedWeights.Block;
        sbyte* xq = x.Int8;
        float* d = stackalloc float[blocks];
        var low = Vector256.Create((byte)0x0F);
        var ones = Vector256.Create((short)1);
        for (int n = n0; n < n1; n++)
        {
            byte* q = Row4(w, n, k, x, d, out var offset, out float rest);
            Vector256<float> a0 = -offset;
            for (int b = 0; b < blocks; b += 2)
            {
                var raw = Vector256.Load(q + b * 16);
                var lo = X86Avx2.MultiplyAddAdjacent(raw & low, Vector256.Load(xq + b * 32));
                var hi = X86Avx2.MultiplyAddAdjacent(Vector256.ShiftRightLogical(raw.AsUInt16(), 4).AsByte() & low, Vector256.Load(xq + b * 32 + 32));
                var sum = X86Avx2.MultiplyAddAdjacent(lo, ones) + X86Avx2.MultiplyAddAdjacent(hi, ones);
                a0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(sum), Pair256(d + b), a0);
            }
            Store(y, bias, n, Sum(a0) - rest, accumulate);
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
    /// (<see cref="QuantizedActivations.LevelSums"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static Vector512<int> Pair4(byte* q, Vector512<sbyte> x, Vector512<byte> nibbles, Vector512<short> ones)
    {
        // The 32 bytes loaded into both halves; the lower half keeps its low nibbles, the upper its high ones: no
        // cross-lane shuffle per pair. GFNI's affine transform (a bit matrix per 8 bytes) does that in one instruction,
        // a shift and a mask in two; on our EPYC one fewer made 4-bit products 2–12 % faster.
        var both = Avx512DQ.BroadcastVector256ToVector512((int*)q).AsByte();
        var levels = Gfni.V512.IsSupported
            ? Gfni.V512.GaloisFieldAffineTransform(both, nibbles, 0)
            : (Avx512BW.ShiftRightLogicalVariable(both.AsUInt16(), nibbles.AsUInt16()) & Vector512.Create((ushort)0x0F0F)).AsByte();
        return Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(levels, x), ones);
    }

    /// <summary>
    /// <see cref="Pair4"/>'s <c>nibbles</c> with GFNI, bit matrices: a byte's low nibble (lower 256 bits), its high
    /// nibble moved down (upper 256 bits). Row i of a matrix, the bits that make bit i of the result, is its byte 7 − i.
    /// (Inlined: as a call between <c>ones</c> and the loop, it made the JIT keep <c>ones</c> on the stack, and the loop's
    /// 64-byte reload from there, split over two cache lines in some processes, cost up to 40 %.)
    /// </summary>
    static Vector512<byte> Nibbles
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(Vector256.Create(0x0102040800000000UL), Vector256.Create(0x1020408000000000UL)).AsByte();
    }

    /// <summary>Without GFNI: the 16-bit shifts, 0 for the lower 256 bits and 4 for the upper, before a mask.</summary>
    static Vector512<byte> Shifts
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Vector512.Create(Vector256<ushort>.Zero, Vector256.Create((ushort)4)).AsByte();
    }

    /// <summary>Row <paramref name="n"/> of packed weights: its levels, with its block scales' products with the
    /// activations' written to <paramref name="products"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static byte* Row(byte* w, int n, int k, int bits, float* activationScales, float* products)
    {
        int blocks = k / PackedWeights.Block;
        var scales = (float*)(w + n * PackedWeights.RowBytes(k, bits));
        Products(scales, activationScales, products, blocks);
        return (byte*)(scales + blocks);
    }

    /// <summary>
    /// <see cref="Row"/> for 4 bits, which also returns the levels' +8 offset,
    /// Σ_b products_b · <see cref="QuantizedActivations.LevelSums"/>_b, in lanes (<paramref name="offset"/>) and a scalar
    /// for the blocks past the last 8: computed in the same pass over the products, it costs the row no separate loop or
    /// horizontal sum.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static byte* Row4(byte* w, int n, int k, QuantizedActivations x, float* products, out Vector256<float> offset, out float rest)
    {
        int blocks = k / PackedWeights.Block;
        float* scales = (float*)(w + n * PackedWeights.RowBytes(k, 4)), xs = x.Scales, sums = x.LevelSums;
        offset = Vector256<float>.Zero;
        int i = 0; // 256 bits: both widths run this
        for (; i + 8 <= blocks; i += 8)
        {
            var p = Vector256.Load(scales + i) * Vector256.Load(xs + i);
            p.Store(products + i);
            offset = Fma.MultiplyAdd(p, Vector256.Load(sums + i), offset);
        }
        rest = 0;
        for (; i < blocks; i++) rest += (products[i] = scales[i] * xs[i]) * sums[i];
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

    /// <summary>
    /// The sum of a vector's lanes by halving: 512 → 256 → 128 bits, then within 128. .NET 10's <c>Vector512.Sum</c>
    /// adds each 128-bit part within itself first, about 25 instructions where this is 8: on GPT-2's 4-bit rows of 768
    /// weights (~20 ns each) this made the product 15 % faster.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Sum(Vector512<float> v) => Sum(v.GetLower() + v.GetUpper());

    /// <summary><see cref="Sum(Vector512{float})"/> from 256 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Sum(Vector256<float> v)
    {
        var q = v.GetLower() + v.GetUpper();
        q += Sse.MoveHighToLow(q, q);
        return (q + Sse.Shuffle(q, q, 0b01)).ToScalar();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void Store(float* y, float* bias, int n, float sum, bool accumulate)
    {
        if (bias != null) sum += bias[n];
        y[n] = accumulate ? y[n] + sum : sum;
    }
}
