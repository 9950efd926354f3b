using GptSharp.Inference;
using GptSharp.Inference.Kernels;
using GptSharp.Inference.Onnx;
using GptSharp.Models;
using static TorchSharp.torch;

namespace GptSharp.Tests.Inference.Kernels;

public class RowDecoderTests
{
    static readonly long[] Prompt = [5, 17, 42, 99, 3, 250, 7];

    /// <summary>GPT-2's head size and vocabulary at two layers and width 192 (the kernels need widths that are multiples of 64).</summary>
    static Gpt Gpt2Shaped() => Gpt.Create(GptPresets.Get("gpt2") with { VocabSize = 50257, NLayer = 2, NHead = 3, NEmbd = 192 }, seed: 3);

    /// <summary>Logits after the prompt (ONNX Runtime: several tokens) and after each of 12 single tokens (the row kernels
    /// where they run), against the same engine with every step in ONNX Runtime.</summary>
    static float MaxDifference(Gpt model, OnnxPrecision precision, int? vectorBits = null)
    {
        using var kernels = OnnxRuntimeEngine.Create(model, precision, rowKernelBits: vectorBits);
        using var ort = OnnxRuntimeEngine.Create(model, precision, rowKernels: false);
        Assert.Equal(RowKernels.Available(), kernels.UsesRowKernels);
        Assert.Equal(vectorBits ?? MatVec.Width, kernels.RowKernelBits);
        Assert.False(ort.UsesRowKernels);
        using var a = kernels.Start(1);
        using var b = ort.Start(1);
        float max = 0;
        long next = 11;
        for (int step = 0; step < 13; step++)
        {
            using var scope = NewDisposeScope();
            long[] feed = step == 0 ? Prompt : [next];
            var x = a.Step(feed, feed.Length);
            var y = b.Step(feed, feed.Length);
            max = Math.Max(max, (x - y).abs().max().item<float>());
            next = (next * 31 + 7) % 50257;
        }
        return max;
    }

    [Fact]
    public void Fp32StepsGiveOnnxRuntimesLogits()
    {
        using var model = Gpt2Shaped();
        Assert.InRange(MaxDifference(model, OnnxPrecision.Float32), 0, 1e-4f);
    }

    [Fact]
    public void BFloat16StepsGiveOnnxRuntimesLogits()
    {
        // ONNX Runtime multiplies the bf16 values as float32; the kernels widen the same values from 16 bits.
        using var model = Gpt2Shaped();
        OnnxRuntimeEngine.RoundToBFloat16(model);
        Assert.InRange(MaxDifference(model, OnnxPrecision.BFloat16), 0, 1e-4f);
    }

    [Theory]
    [InlineData(OnnxPrecision.Int8)]
    [InlineData(OnnxPrecision.Int4)]
    public void QuantisedStepsGiveOnnxRuntimesLogitsUpToTheActivationsRounding(OnnxPrecision precision)
    {
        // Both quantise activations to int8 per block of 32; MLAS rounds some of them differently.
        using var model = Gpt2Shaped();
        Assert.InRange(MaxDifference(model, precision), 0, 0.05f);
    }

    [Theory]
    [InlineData(OnnxPrecision.Float32, 1e-4f)]
    [InlineData(OnnxPrecision.BFloat16, 1e-4f)]
    [InlineData(OnnxPrecision.Int8, 0.05f)]
    [InlineData(OnnxPrecision.Int4, 0.05f)]
    public void EachWidthGivesTheSameLogits(OnnxPrecision precision, float tolerance)
    {
        using var model = Gpt2Shaped();
        if (precision == OnnxPrecision.BFloat16) OnnxRuntimeEngine.RoundToBFloat16(model); // as Attach does
        foreach (int bits in new[] { 512, 256 })
            if (RowKernels.Available(bits)) Assert.InRange(MaxDifference(model, precision, vectorBits: bits), 0, tolerance);
    }

    [Fact]
    public void GreedyTokensAreOnnxRuntimesOnASingleSequenceAndOnSlots()
    {
        using var model = Gpt2Shaped();
        var options = new GenerationOptions { DoSample = false, MaxNewTokens = 24, StopAtEndOfText = false };
        int[] prompt = [.. Prompt.Select(t => (int)t)];
        model.Engine = OnnxRuntimeEngine.Create(model, rowKernels: false);
        var expected = new TextGenerator(model).Generate(prompt, options);
        model.Engine = OnnxRuntimeEngine.Create(model);
        Assert.Equal(expected, new TextGenerator(model).Generate(prompt, options));

        // The server's slots: one sequence decoding alone runs on the kernels, two together in ONNX Runtime.
        using var _ = no_grad();
        using var kernels = ((OnnxRuntimeEngine)model.Engine).StartSlots(2);
        using var ort = OnnxRuntimeEngine.Create(model, rowKernels: false);
        using var reference = ort.StartSlots(2);
        float max = 0;
        void Both(int[][] tokens, int[] slots)
        {
            using var scope = NewDisposeScope();
            var x = kernels.Forward(tokens, slots);
            var y = reference.Forward(tokens, slots);
            max = Math.Max(max, (x - y).abs().max().item<float>());
        }
        Assert.Equal(0, kernels.Add());
        Assert.Equal(0, reference.Add());
        Both([prompt], [0]);
        Both([[3]], [0]);
        Both([[9]], [0]);
        kernels.Add();
        reference.Add();
        Both([[1, 2, 3]], [1]);
        Both([[4], [5]], [0, 1]);
        kernels.Remove(0);
        reference.Remove(0);
        Both([[6]], [0]);
        Assert.InRange(max, 0, 1e-4f);
    }

    [Fact]
    public void ModelsTheKernelsDoNotHandleStayOnOnnxRuntime()
    {
        using var narrow = Gpt.Create(new GptConfig { VocabSize = 300, BlockSize = 32, NLayer = 2, NHead = 2, NEmbd = 32 }, seed: 7);
        using var engine = OnnxRuntimeEngine.Create(narrow);
        Assert.False(engine.UsesRowKernels);
        using var wide = Gpt2Shaped();
        using var profiled = OnnxRuntimeEngine.Create(wide, profilePrefix: Path.Combine(Path.GetTempPath(), $"gptsharp-profile-{Guid.NewGuid():N}"));
        Assert.False(profiled.UsesRowKernels);
        File.Delete(profiled.EndProfiling());
    }
}
