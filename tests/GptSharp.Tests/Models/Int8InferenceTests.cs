using GptSharp.Compression;
using GptSharp.Inference;
using GptSharp.Models;
using GptSharp.Tokenization;
using static TorchSharp.torch;
using GptSharp.Checkpoints;

namespace GptSharp.Tests.Models;

public class Int8InferenceTests
{
    static readonly GptConfig Tiny = new() { VocabSize = 97, BlockSize = 32, NLayer = 2, NHead = 4, NEmbd = 64 };

    static Tensor Ids(params long[] ids) => tensor(ids).unsqueeze(0);

    static float MaxDiff(Tensor a, Tensor b)
    {
        using var d = (a.to(ScalarType.Float32) - b.to(ScalarType.Float32)).abs().max();
        return d.item<float>();
    }

    [Fact]
    public void LogitsStayCloseToFloat32AndTrainingIgnoresIt()
    {
        using var model = Gpt.Create(Tiny, seed: 3);
        model.eval();
        using var ids = Ids(5, 17, 42, 8, 96, 0, 33);
        Tensor fp32;
        using (no_grad()) fp32 = model.Forward(ids);
        using var _fp32 = fp32;

        model.Precision.Int8Inference = true;
        using (no_grad())
        using (var int8 = model.Forward(ids))
        {
            Assert.Equal(ScalarType.BFloat16, int8.dtype);
            using var range = fp32.abs().max();
            Assert.True(MaxDiff(int8, fp32) < 0.05f * range.item<float>(), $"int8 logits differ by {MaxDiff(int8, fp32)}");
            Assert.False(MaxDiff(int8, fp32) == 0, "int8 inference should not be the fp32 computation");
        }

        // With autograd on (training), the float weights are used exactly as before.
        using (var trained = model.Forward(ids))
            Assert.Equal(0f, MaxDiff(trained, fp32));
    }

    [Fact]
    public void WeightsChangedByTrainingAreRequantised()
    {
        using var model = Gpt.Create(Tiny, seed: 4);
        model.Precision.Int8Inference = true;
        using var ids = Ids(1, 2, 3, 4, 5, 6, 7, 8);
        using (no_grad()) model.Forward(ids).Dispose(); // quantises and keeps the weights

        using (var optimizer = optim.AdamW(model.parameters(), lr: 1e-2))
        {
            using var loss = Gpt.Loss(model.Forward(ids[.., ..^1]), ids[.., 1..]);
            loss.backward();
            optimizer.step();
        }

        using var fresh = Gpt.Create(Tiny, seed: 99);
        using (no_grad())
            foreach (var ((_, a), (_, b)) in fresh.named_parameters().Zip(model.named_parameters())) a.copy_(b);
        fresh.Precision.Int8Inference = true;
        using var _ = no_grad();
        using var afterStep = model.Forward(ids);
        using var expected = fresh.Forward(ids);
        Assert.Equal(0f, MaxDiff(afterStep, expected));
    }

    [Fact]
    public void AnInt8DirectoryInfersWithItsStoredWeightsLikeAQuantisedFloatModel()
    {
        using var tmp = new Fixture.TempDir();
        using (var model = Gpt.Create(Tiny with { VocabSize = 50257 }, seed: 6))
        {
            ModelDirectory.Save(model, BpeTokenizer.Gpt2(), tmp["fp32"]);
            Int8Quantization.QuantizeDirectory(tmp["fp32"], tmp["int8"]);
        }
        using var fromInt8 = ModelDirectory.Load(tmp["int8"]);
        using var fromFloat = ModelDirectory.Load(tmp["fp32"]);
        Assert.True(fromInt8.Model.Precision.Int8Inference);
        Assert.False(fromFloat.Model.Precision.Int8Inference);

        fromFloat.Model.Precision.Use(InferencePrecision.Int8);
        using var ids = Ids(464, 2068, 7586, 21831, 18045, 625);
        using var _ = no_grad();
        using var a = fromInt8.Model.Forward(ids);
        using var b = fromFloat.Model.Forward(ids);
        Assert.Equal(0f, MaxDiff(a, b)); // same quantiser, same weights: the same int8 values and scales

        // And fp32 on request: the dequantised weights, in float32.
        fromInt8.Model.Precision.Use(InferencePrecision.Float32);
        using var c = fromInt8.Model.Forward(ids);
        Assert.Equal(ScalarType.Float32, c.dtype);
    }

    [Fact]
    public void GreedyDecodingWithTheCacheMatchesWithoutIt()
    {
        using var model = Gpt.Create(Tiny, seed: 8);
        model.Precision.Int8Inference = true;
        var generator = new TextGenerator(model);
        var o = new GenerationOptions { DoSample = false, MaxNewTokens = 12, StopAtEndOfText = false };
        int[] prompt = [3, 14, 15, 92, 65];
        Assert.Equal(generator.Generate(prompt, o), generator.Generate(prompt, o with { UseCache = false }));
    }

    [Fact]
    public void ReleasingTheFloatWeightsKeepsInt8InferenceAndFreesTheirStorage()
    {
        using var model = Gpt.Create(Tiny, seed: 9);
        model.eval();
        using var ids = Ids(4, 8, 15, 16, 23, 42);
        model.Precision.Int8Inference = true;
        Tensor before;
        using (no_grad()) before = model.Forward(ids);
        using var _before = before;
        long parameters = model.ParameterCount;

        model.ReleaseFloatWeights();
        Assert.True(model.Precision.FloatWeightsReleased);
        Assert.Equal(parameters, model.ParameterCount);
        // Only LayerNorms, biases and position embeddings keep float storage.
        long floatsLeft = model.parameters().Sum(p => p.numel());
        Assert.Equal(Tiny.BlockSize * Tiny.NEmbd + Tiny.NLayer * (4 * Tiny.NEmbd + 3 * Tiny.NEmbd + Tiny.NEmbd + 4 * Tiny.NEmbd + Tiny.NEmbd) + 2 * Tiny.NEmbd,
            floatsLeft);

        using (no_grad())
        using (var after = model.Forward(ids))
        {
            // Token embeddings now come from the int8 rows too: close to before, not identical.
            using var range = before.to(ScalarType.Float32).abs().max();
            Assert.True(MaxDiff(after, before) < 0.05f * range.item<float>(), $"logits moved by {MaxDiff(after, before)}");
        }
        var generator = new TextGenerator(model);
        var o = new GenerationOptions { DoSample = false, MaxNewTokens = 6, StopAtEndOfText = false };
        Assert.Equal(generator.Generate([1, 2, 3], o), generator.Generate([1, 2, 3], o with { UseCache = false }));
    }

    [Fact]
    public void AReleasedModelRefusesTrainingSavingAndOtherPrecisions()
    {
        using var model = Gpt.Create(Tiny, seed: 10);
        model.ReleaseFloatWeights();
        using var ids = Ids(1, 2, 3);
        using var tmp = new Fixture.TempDir();
        foreach (var attempt in new Action[]
                 {
                     () => model.Forward(ids).Dispose(), // autograd on: training
                     () => HfCheckpoint.Save(model, tmp["out"]),
                     () => Int8Checkpoint.Save(model, tmp["out8"]),
                     () => model.Precision.Use(InferencePrecision.Float32),
                     () => model.Precision.Int8Inference = false,
                 })
            Assert.Contains("released for int8 inference", Assert.Throws<GptSharpException>(attempt).Message);
        Assert.False(Directory.Exists(tmp["out"]) && Directory.EnumerateFiles(tmp["out"]).Any());
        model.Precision.ForgetCasts(); // must not drop the only weights left
        using var _ = no_grad();
        model.Forward(ids).Dispose();
    }

    [Theory]
    [InlineData("int8", InferencePrecision.Int8)]
    [InlineData("BF16", InferencePrecision.BFloat16)]
    [InlineData("auto", InferencePrecision.Auto)]
    public void PrecisionNamesParse(string name, InferencePrecision expected) =>
        Assert.Equal(expected, InferencePrecisionNames.Parse(name));

    [Fact]
    public void AnUnknownPrecisionNamesTheChoices()
    {
        var e = Assert.Throws<GptSharpException>(() => InferencePrecisionNames.Parse("int4"));
        Assert.Contains("fp32, bf16 or int8", e.Message);
    }
}
