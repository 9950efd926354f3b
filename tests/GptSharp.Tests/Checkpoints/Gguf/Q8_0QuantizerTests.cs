using GptSharp.Checkpoints.Gguf;

namespace GptSharp.Tests.Checkpoints.Gguf;

public class Q8_0QuantizerTests
{
    [Fact]
    public void AKnownBlockEncodesToTheExpectedBytes()
    {
        // max|x| = 127, so d = 1 (fp16 0x3C00) and each code is x rounded half away from zero, as C's roundf.
        var x = new float[32];
        float[] head = [0, 1, -1, 2.5f, -2.5f, 127, -127, 3.49f, 0.5f, -0.5f];
        head.CopyTo(x, 0);
        byte[] expected = [0x00, 0x3C, 0x00, 0x01, 0xFF, 0x03, 0xFD, 0x7F, 0x81, 0x03, 0x01, 0xFF, .. new byte[22]];
        Assert.Equal(expected, Q8_0Quantizer.Quantize(x));
        Assert.Equal(new float[] { 0, 1, -1, 3, -3, 127, -127, 3, 1, -1 }, Q8_0Quantizer.Dequantize(expected)[..10]);
    }

    [Fact]
    public void AZeroBlockHasAZeroScale() =>
        Assert.Equal(new byte[Q8_0Quantizer.BlockBytes], Q8_0Quantizer.Quantize(new float[32]));

    [Fact]
    public void RandomValuesComeBackWithinHalfAStepPlusTheScalesRounding()
    {
        var rng = new Random(3);
        var x = Enumerable.Range(0, 32 * 64).Select(i => (float)(rng.NextDouble() * 2 - 1) * (1 + i % 7)).ToArray();
        byte[] blocks = Q8_0Quantizer.Quantize(x);
        Assert.Equal(64 * 34, blocks.Length);
        float[] back = Q8_0Quantizer.Dequantize(blocks);
        for (int b = 0; b < 64; b++)
        {
            float amax = x.Skip(b * 32).Take(32).Max(MathF.Abs);
            // Half a step (d / 2), plus up to 127 steps times the fp16 scale's relative error (2^-11).
            float bound = amax / 127 / 2 + amax / 2048 + 1e-6f;
            for (int j = b * 32; j < b * 32 + 32; j++) Assert.True(MathF.Abs(back[j] - x[j]) <= bound, $"{j}: {x[j]} → {back[j]}");
        }
    }

    [Fact]
    public void ALengthOutsideWholeBlocksIsRefused() => Assert.Throws<ArgumentException>(() => Q8_0Quantizer.Quantize(new float[33]));
}
