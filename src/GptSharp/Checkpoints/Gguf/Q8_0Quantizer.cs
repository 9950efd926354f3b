namespace GptSharp.Checkpoints.Gguf;

/// <summary>
/// ggml's Q8_0 blocks: 32 values as an fp16 scale <c>d = max|x| / 127</c> then 32 signed bytes <c>round(x / d)</c>
/// (halves away from zero, as C's <c>roundf</c>), bit for bit what llama.cpp's reference quantiser writes.
/// </summary>
public static class Q8_0Quantizer
{
    public const int BlockSize = 32, BlockBytes = 2 + BlockSize;

    /// <summary>Encodes <paramref name="values"/> (a multiple of 32 long) into blocks.</summary>
    public static byte[] Quantize(ReadOnlySpan<float> values)
    {
        if (values.Length % BlockSize != 0) throw new ArgumentException($"Q8_0 needs a multiple of {BlockSize} values, not {values.Length}", nameof(values));
        var output = new byte[values.Length / BlockSize * BlockBytes];
        for (int b = 0; b < values.Length / BlockSize; b++)
            QuantizeBlock(values.Slice(b * BlockSize, BlockSize), output.AsSpan(b * BlockBytes, BlockBytes));
        return output;
    }

    static void QuantizeBlock(ReadOnlySpan<float> x, Span<byte> block)
    {
        float amax = 0;
        foreach (float v in x) amax = MathF.Max(amax, MathF.Abs(v));
        float d = amax / 127f;
        float id = d != 0 ? 1f / d : 0f;
        BitConverter.TryWriteBytes(block, (Half)d);
        for (int j = 0; j < BlockSize; j++)
            block[2 + j] = (byte)(sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero);
    }

    /// <summary>Decodes blocks back into floats (<c>d × q</c>).</summary>
    public static float[] Dequantize(ReadOnlySpan<byte> blocks)
    {
        if (blocks.Length % BlockBytes != 0) throw new ArgumentException($"Q8_0 data must be a multiple of {BlockBytes} bytes", nameof(blocks));
        var values = new float[blocks.Length / BlockBytes * BlockSize];
        for (int b = 0; b < blocks.Length / BlockBytes; b++)
        {
            var block = blocks.Slice(b * BlockBytes, BlockBytes);
            float d = (float)BitConverter.ToHalf(block);
            for (int j = 0; j < BlockSize; j++) values[b * BlockSize + j] = d * (sbyte)block[2 + j];
        }
        return values;
    }
}
