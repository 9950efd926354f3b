using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using GptSharp.Models.Quantized;
using GptSharp.Native;
using static TorchSharp.torch;

namespace GptSharp.Inference.Kernels;

/// <summary>
/// A weight [N, k] in blocks of 32 along k for <see cref="MatVec"/>: <see cref="BlockQuantization"/>'s levels and scales
/// (so the same numbers ONNX Runtime's <c>MatMulNBits</c> runs), each row one run of bytes — its block scales, then its
/// levels — and the levels of each pair of blocks interleaved so that the integer products of both blocks come out in
/// alternate lanes (<see cref="Order8"/>, <see cref="Order4"/>). k must be a multiple of 64.
/// </summary>
sealed unsafe class PackedWeights : IDisposable
{
    public const int Block = BlockQuantization.BlockSize;

    PackedWeights(byte* data, int rows, int k, int bits)
    {
        Data = data;
        (Rows, K, Bits) = (rows, k, bits);
    }

    public byte* Data { get; private set; }
    public int Rows { get; }
    public int K { get; }
    public int Bits { get; }
    public long Bytes => Rows * RowBytes(K, Bits);

    public static long RowBytes(int k, int bits) => k / Block * sizeof(float) + (long)k * bits / 8;

    /// <summary>
    /// Where, in a pair of 8-bit blocks (64 weights), packed position P takes its weight from (0..31 the first block,
    /// 32..63 the second): the two halves of P are the two 32-weight loads <see cref="MatVec"/> widens to 16 bits, whose
    /// 16 products by pairs alternate between the blocks.
    /// </summary>
    public static readonly byte[] Order8 = Enumerable.Range(0, 64).Select(P =>
    {
        int half = P / 32, p = P % 32, lane = p / 2;
        return (byte)((lane & 1) * Block + half * 16 + (lane >> 1) * 2 + (p & 1));
    }).ToArray();

    /// <summary>
    /// The same for 4 bits: position p of the 64 levels unpacked from 32 bytes (low nibbles, then high), whose byte
    /// products summed by fours alternate between the blocks.
    /// </summary>
    public static readonly byte[] Order4 = Enumerable.Range(0, 64).Select(p =>
    {
        int lane = p / 4;
        return (byte)((lane & 1) * Block + (lane >> 1) * 4 + (p & 3));
    }).ToArray();

    /// <summary>Quantises <paramref name="weight"/> ([N, k] float) to <paramref name="bits"/> (8 or 4) and packs it.</summary>
    public static PackedWeights Quantize(Tensor weight, int bits)
    {
        int rows = (int)weight.shape[0], k = (int)weight.shape[1];
        if (k % (2 * Block) != 0) throw new ArgumentException($"k ({k}) must be a multiple of {2 * Block}", nameof(weight));
        var (packed, scales) = BlockQuantization.Quantize(weight, bits);
        using (packed)
        using (scales)
        {
            var result = new PackedWeights((byte*)HugePages.Allocate((nuint)(rows * RowBytes(k, bits))), rows, k, bits);
            fixed (byte* levels = packed.bytes)
            fixed (byte* s = scales.bytes)
                Pack(levels, (float*)s, result.Data, rows, k, bits);
            return result;
        }
    }

    /// <summary>Compiled optimised up front: a loop over every weight of the model, run once at load.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void Pack(byte* levels, float* scales, byte* into, int rows, int k, int bits)
    {
        int blocks = k / Block;
        long rowBytes = RowBytes(k, bits), levelBytes = (long)k * bits / 8;
        Span<byte> pair = stackalloc byte[2 * Block];
        for (long n = 0; n < rows; n++)
        {
            byte* row = into + n * rowBytes;
            new ReadOnlySpan<float>(scales + n * blocks, blocks).CopyTo(new Span<float>(row, blocks));
            byte* source = levels + n * levelBytes, target = row + blocks * sizeof(float);
            for (int b = 0; b < blocks; b += 2)
            {
                // the pair's 64 levels in natural order
                for (int i = 0; i < 2 * Block; i++)
                    pair[i] = bits == 8 ? source[b * Block + i] : (byte)((source[(b * Block + i) / 2] >> (4 * (i & 1))) & 0xF);
                if (bits == 8)
                    for (int P = 0; P < 2 * Block; P++) target[b * Block + P] = (byte)(pair[Order8[P]] - 128);
                else
                    for (int j = 0; j < Block; j++)
                        target[b * Block / 2 + j] = (byte)(pair[Order4[j]] | (pair[Order4[j + Block]] << 4));
            }
        }
    }

    public void Dispose()
    {
        if (Data == null) return;
        HugePages.Free(Data);
        Data = null;
        GC.SuppressFinalize(this);
    }

    ~PackedWeights()
    {
        if (Data != null) HugePages.Free(Data);
    }
}
