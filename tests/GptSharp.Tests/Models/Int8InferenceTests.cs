using GptSharp.Compression;
using GptSharp.Inference;
using GptSharp.Models;
using GptSharp.Tokenization;
using static TorchSharp.torch;
using GptSharp.Checkpoints;
using GptSharp.Models.Quantized;

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
    public void LogitsStayCloseToFloat32AndTrainingIsRefused()
    {
        using var model = Gpt.Create(Tiny, seed: 3);
        model.eval();
        using var ids = Ids(5, 17, 42, 8, 96, 0, 33);
        Tensor fp32;
        using (no_grad()) fp32 = model.Forward(ids);
        using var _fp32 = fp32;

        Int8WeightOnly.Quantize(model);
        using (no_grad())
        using (var int8 = model.Forward(ids))
        {
            Assert.Equal(ScalarType.BFloat16, int8.dtype);
            using var range = fp32.abs().max();
            Assert.True(MaxDiff(int8, fp32) < 0.05f * range.item<float>(), $"int8 logits differ by {MaxDiff(int8, fp32)}");
            Assert.False(MaxDiff(int8, fp32) == 0, "int8 inference should not be the fp32 computation");
        }

        // With autograd on (training) there are no float weights to train.
        Assert.Contains("quantised to int8", Assert.Throws<GptSharpException>(() => model.Forward(ids).Dispose()).Message);
    }

    [Fact]
    public void QuantisingATrainedModelUsesItsTrainedWeights()
    {
        using var model = Gpt.Create(Tiny, seed: 4);
        using var ids = Ids(1, 2, 3, 4, 5, 6, 7, 8);
        Tensor before;
        using (no_grad()) before = model.Forward(ids);
        using var _before = before;

        using (var optimizer = optim.AdamW(model.parameters(), lr: 1e-2))
        {
            using var loss = Gpt.Loss(model.Forward(ids[.., ..^1]), ids[.., 1..]);
            loss.backward();
            optimizer.step();
        }

        using var fresh = Gpt.Create(Tiny, seed: 99);
        using (no_grad())
            foreach (var ((_, a), (_, b)) in fresh.named_parameters().Zip(model.named_parameters())) a.copy_(b);
        Int8WeightOnly.Quantize(model);
        Int8WeightOnly.Quantize(fresh);
        using var _ = no_grad();
        using var afterStep = model.Forward(ids);
        using var expected = fresh.Forward(ids);
        Assert.Equal(0f, MaxDiff(afterStep, expected));
        Assert.True(MaxDiff(afterStep, before) > 0, "the trained weights should have been quantised, not the initial ones");
    }

    [Fact]
    public void AnInt8DirectoryInfersWithItsStoredWeightsLikeAQuantisedFloatModel()
    {
        using var tmp = new Fixture.TempDir();
        using (var model = Gpt.Create(Tiny with { VocabSize = 50257 }, seed: 6))
        {
            new ModelDirectory(model, BpeTokenizer.Gpt2()).Save(tmp["fp32"]);
            WeightQuantization.QuantizeDirectory(tmp["fp32"], tmp["int8"]);
        }
        using var fromInt8 = ModelDirectory.Load(tmp["int8"]);
        using var fromFloat = ModelDirectory.Load(tmp["fp32"]);
        Assert.True(Int8WeightOnly.IsQuantized(fromInt8.Model));
        Assert.False(Int8WeightOnly.IsQuantized(fromFloat.Model));

        Int8WeightOnly.Quantize(fromFloat.Model);
        using var ids = Ids(464, 2068, 7586, 21831, 18045, 625);
        using var _ = no_grad();
        using var a = fromInt8.Model.Forward(ids);
        using var b = fromFloat.Model.Forward(ids);
        Assert.Equal(0f, MaxDiff(a, b)); // same quantiser, same weights: the same int8 values and scales

        // And fp32 on request: the dequantised weights, in float32.
        using var asFloat = ModelDirectory.Load(tmp["int8"], new LoadOptions { Precision = InferencePrecision.Float32 });
        Assert.False(Int8WeightOnly.IsQuantized(asFloat.Model));
        using var c = asFloat.Model.Forward(ids);
        Assert.Equal(ScalarType.Float32, c.dtype);
    }

    [Fact]
    public void GreedyDecodingWithTheCacheMatchesWithoutIt()
    {
        using var model = Gpt.Create(Tiny, seed: 8);
        Int8WeightOnly.Quantize(model);
        var generator = new TextGenerator(model);
        var o = new GenerationOptions { DoSample = false, MaxNewTokens = 12, StopAtEndOfText = false };
        int[] prompt = [3, 14, 15, 92, 65];
        Assert.Equal(generator.Generate(prompt, o), generator.Generate(prompt, o with { UseCache = false }));
    }

    [Fact]
    public void QuantisingSwapsTheLayersAndFreesTheFloatWeights()
    {
        using var model = Gpt.Create(Tiny, seed: 9);
        model.eval();
        using var ids = Ids(4, 8, 15, 16, 23, 42);
        Tensor before;
        using (no_grad()) before = model.Forward(ids);
        using var _before = before;
        long parameters = model.ParameterCount;
        int linears = model.modules().Count(m => m is TorchSharp.Modules.Linear);
        Assert.Equal(4 * Tiny.NLayer, linears);

        Int8WeightOnly.Quantize(model);
        Assert.True(Int8WeightOnly.IsQuantized(model));
        Assert.Equal(parameters, model.ParameterCount);
        // Every Linear layer is now an Int8Linear in the same place, and the token embedding an int8 one.
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        Assert.DoesNotContain(modules.Values, m => m is TorchSharp.Modules.Linear);
        foreach (var name in new[] { "h.0.attn.c_attn", "h.0.attn.c_proj", "h.1.mlp.c_fc", "h.1.mlp.c_proj" })
            Assert.IsType<Int8Linear>(modules[name]);
        Assert.IsType<Int8TokenEmbedding>(modules["wte"]);
        Assert.Equal(linears, modules.Count(m => m.Value is Int8Linear && m.Key != "wte.head"));
        // Only LayerNorms, biases and position embeddings keep float storage.
        long floatsLeft = model.parameters().Sum(p => p.numel()) + model.modules().OfType<Int8Linear>().Sum(l => l.FloatBias?.numel() ?? 0);
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
    public void AQuantisedModelRefusesTrainingFloatSavingAndOtherPrecisions()
    {
        using var model = Gpt.Create(Tiny, seed: 10);
        Int8WeightOnly.Quantize(model);
        using var ids = Ids(1, 2, 3);
        using var tmp = new Fixture.TempDir();
        foreach (var attempt in new Action[]
                 {
                     () => model.Forward(ids).Dispose(), // autograd on: training
                     () => HfCheckpoint.Save(model, tmp["out"]),
                     () => PrecisionSetup.Apply(model, InferencePrecision.Float32),
                     () => PrecisionSetup.Apply(model, InferencePrecision.BFloat16),
                     () => VocabularyResize.Resize(model, Tiny.VocabSize + 3).Dispose(),
                 })
            Assert.Contains("quantised to int8", Assert.Throws<GptSharpException>(attempt).Message);
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
        var e = Assert.Throws<GptSharpException>(() => InferencePrecisionNames.Parse("int3"));
        Assert.Contains("fp32, bf16, int8 or int4", e.Message);
    }
}
