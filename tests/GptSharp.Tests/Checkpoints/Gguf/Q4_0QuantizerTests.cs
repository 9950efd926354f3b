using GptSharp.Checkpoints.Gguf;

namespace GptSharp.Tests.Checkpoints.Gguf;

public class Q4_0QuantizerTests
{
    [Fact]
    public void AKnownBlockEncodesToTheExpectedBytes()
    {
        // The largest magnitude is -8, so d = -8 / -8 = 1 (fp16 0x3C00); code = min(15, trunc(x + 8.5)).
        var x = new float[32];
        float[] first = [-8, 0, 1, -1, 7, 7.6f, 0.5f, -0.5f];
        first.CopyTo(x, 0);
        x[16] = 3;
        x[17] = -3;
        // codes 0..15: 0 8 9 7 15 15 9 8, then 8s; codes 16..31: 11 5, then 8s. Byte j = code j | code (j + 16) << 4.
        byte[] expected = [0x00, 0x3C, 0xB0, 0x58, 0x89, 0x87, 0x8F, 0x8F, 0x89, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88, 0x88];
        Assert.Equal(expected, Q4_0Quantizer.Quantize(x));
        float[] back = Q4_0Quantizer.Dequantize(expected);
        Assert.Equal(new float[] { -8, 0, 1, -1, 7, 7, 1, 0 }, back[..8]);
        Assert.Equal(new float[] { 3, -3 }, back[16..18]);
    }

    [Fact]
    public void APositiveMaximumGetsANegativeScale()
    {
        var x = new float[32];
        x[5] = 4; // d = 4 / -8 = -0.5: 4 lands exactly on code 0
        x[6] = -2;
        byte[] blocks = Q4_0Quantizer.Quantize(x);
        Assert.Equal((Half)(-0.5f), BitConverter.ToHalf(blocks, 0));
        float[] back = Q4_0Quantizer.Dequantize(blocks);
        Assert.Equal(4f, back[5]);
        Assert.Equal(-2f, back[6]);
    }

    [Fact]
    public void RandomValuesComeBackWithinOneStep()
    {
        var rng = new Random(4);
        var x = Enumerable.Range(0, 32 * 64).Select(i => (float)(rng.NextDouble() * 2 - 1) * (1 + i % 5)).ToArray();
        float[] back = Q4_0Quantizer.Dequantize(Q4_0Quantizer.Quantize(x));
        for (int b = 0; b < 64; b++)
        {
            float amax = x.Skip(b * 32).Take(32).Max(MathF.Abs);
            // A step is amax / 8; rounding costs half of one, the clamp at code 15 (x near -max) up to one; plus fp16.
            float bound = amax / 8 + amax / 1024 + 1e-6f;
            for (int j = b * 32; j < b * 32 + 32; j++) Assert.True(MathF.Abs(back[j] - x[j]) <= bound, $"{j}: {x[j]} → {back[j]}");
        }
    }
}
