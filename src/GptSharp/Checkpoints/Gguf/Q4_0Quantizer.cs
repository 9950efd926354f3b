namespace GptSharp.Checkpoints.Gguf;

/// <summary>
/// ggml's Q4_0 blocks: 32 values as an fp16 scale <c>d = m / -8</c>, where <c>m</c> is the value of largest magnitude
/// (sign kept, so it lands exactly on code 0), then 16 bytes of 4-bit codes <c>min(15, trunc(x / d + 8.5))</c>: byte j
/// holds value j in its low nibble and value j + 16 in its high one. Bit for bit llama.cpp's reference quantiser.
/// </summary>
public static class Q4_0Quantizer
{
    public const int BlockSize = 32, BlockBytes = 2 + BlockSize / 2;

    /// <summary>Encodes <paramref name="values"/> (a multiple of 32 long) into blocks.</summary>
    public static byte[] Quantize(ReadOnlySpan<float> values)
    {
        if (values.Length % BlockSize != 0) throw new ArgumentException($"Q4_0 needs a multiple of {BlockSize} values, not {values.Length}", nameof(values));
        var output = new byte[values.Length / BlockSize * BlockBytes];
        for (int b = 0; b < values.Length / BlockSize; b++)
            QuantizeBlock(values.Slice(b * BlockSize, BlockSize), output.AsSpan(b * BlockBytes, BlockBytes));
        return output;
    }

    static void QuantizeBlock(ReadOnlySpan<float> x, Span<byte> block)
    {
        float amax = 0, max = 0;
        foreach (float v in x)
            if (MathF.Abs(v) > amax) (amax, max) = (MathF.Abs(v), v); // the first of equal magnitudes, as ggml
        float d = max / -8f;
        float id = d != 0 ? 1f / d : 0f;
        BitConverter.TryWriteBytes(block, (Half)d);
        for (int j = 0; j < BlockSize / 2; j++)
        {
            int lo = Math.Min(15, (int)(x[j] * id + 8.5f));
            int hi = Math.Min(15, (int)(x[j + BlockSize / 2] * id + 8.5f));
            block[2 + j] = (byte)(lo | hi << 4);
        }
    }

    /// <summary>Decodes blocks back into floats (<c>d × (code − 8)</c>).</summary>
    public static float[] Dequantize(ReadOnlySpan<byte> blocks)
    {
        if (blocks.Length % BlockBytes != 0) throw new ArgumentException($"Q4_0 data must be a multiple of {BlockBytes} bytes", nameof(blocks));
        var values = new float[blocks.Length / BlockBytes * BlockSize];
        for (int b = 0; b < blocks.Length / BlockBytes; b++)
        {
            var block = blocks.Slice(b * BlockBytes, BlockBytes);
            float d = (float)BitConverter.ToHalf(block);
            for (int j = 0; j < BlockSize / 2; j++)
            {
                values[b * BlockSize + j] = d * ((block[2 + j] & 0x0F) - 8);
                values[b * BlockSize + j + BlockSize / 2] = d * ((block[2 + j] >> 4) - 8);
            }
        }
        return values;
    }
}
