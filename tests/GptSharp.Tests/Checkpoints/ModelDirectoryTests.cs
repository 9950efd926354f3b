using GptSharp.Models;
using GptSharp.Tokenization;
using GptSharp.Checkpoints;
using GptSharp.Inference;
using GptSharp.Inference.Onnx;
using GptSharp.Models.Quantized;
using static TorchSharp.torch;

namespace GptSharp.Tests.Checkpoints;

public class ModelDirectoryTests
{
    [Fact]
    public void SavesAndLoadsModelWithTokenizer()
    {
        using var tmp = new Fixture.TempDir();
        var tok = new BpeTrainer(new BpeTrainerOptions { VocabSize = 300, MinPairFrequency = 1 })
            .Train(["the cat sat on the mat", "the dog sat on the log"]);
        using var model = Gpt.Create(new GptConfig { VocabSize = tok.VocabSize, BlockSize = 16, NLayer = 1, NHead = 2, NEmbd = 32 });
        new ModelDirectory(model, tok).Save(tmp["m"]);
        Assert.Equal(["config.json", "merges.txt", "model.safetensors", "tokenizer_config.json", "vocab.json"],
            Directory.GetFiles(tmp["m"]).Select(Path.GetFileName).Order());
        using var loaded = ModelDirectory.Load(tmp["m"]);
        Assert.Equal(tok.Encode("the cat sat"), loaded.Tokenizer.Encode("the cat sat"));
        Assert.Equal(tok.VocabSize, loaded.Model.Config.VocabSize);
    }

    [Fact]
    public void BareGpt2WeightsGetTheBuiltInVocabulary()
    {
        using var loaded = ModelDirectory.Load(Fixture.Path("gpt2-tiny-hf"));
        Assert.Equal([15496, 11, 995, 0], loaded.Tokenizer.Encode("Hello, world!"));
    }

    [Fact]
    public void ATokenizerLargerThanTheModelIsRejected()
    {
        using var tmp = new Fixture.TempDir();
        using var model = Gpt.Create(new GptConfig { VocabSize = 1000, BlockSize = 16, NLayer = 1, NHead = 2, NEmbd = 32 });
        var e = Assert.Throws<GptSharpException>(() => new ModelDirectory(model, BpeTokenizer.Gpt2()).Save(tmp["m"]));
        Assert.Contains("vocab_size is 1000", e.Message);
        Assert.False(Directory.Exists(tmp["m"]));
    }

    static Gpt ChatSized(long seed = 3) =>
        Gpt.Create(new GptConfig { VocabSize = BpeTokenizer.Gpt2().VocabSize, BlockSize = 16, NLayer = 1, NHead = 2, NEmbd = 32 }, seed);

    static float MaxDiff(Gpt a, Gpt b)
    {
        using var _ = no_grad();
        using var ids = tensor(new long[] { 464, 2068, 7586, 21831, 50256 }).unsqueeze(0);
        using var x = a.Forward(ids);
        using var y = b.Forward(ids);
        using var d = (x.to(ScalarType.Float32) - y.to(ScalarType.Float32)).abs().max();
        return d.item<float>();
    }

    [Fact]
    public void AChatModelRoundTripsWithItsTemplateAndGenerationDefaults()
    {
        using var tmp = new Fixture.TempDir();
        var tok = BpeTokenizer.Gpt2();
        using var model = ChatSized();
        int end = tok.TokenToId(SpecialTokens.End)!.Value;
        var generation = new GenerationOptions { MaxNewTokens = 9, Temperature = 0.5, TopK = 7, RepetitionPenalty = 1.2 };
        using (var saved = new ModelDirectory(model, tok) { ChatTemplate = new ChatTemplate(tok), Generation = generation, EndTokenIds = [end] })
        {
            saved.Save(tmp["chat"]);
            Assert.Equal(tmp["chat"], saved.Directory);
        }
        Assert.Equal(["config.json", "generation_config.json", "merges.txt", "model.safetensors", "tokenizer_config.json", "vocab.json"],
            Directory.GetFiles(tmp["chat"]).Select(Path.GetFileName).Order());
        Assert.Contains("chat_template", File.ReadAllText(tmp["chat/tokenizer_config.json"]));
        Assert.Equal([tmp["chat"]], Directory.GetDirectories(tmp.Root)); // no temporary left beside it

        using var loaded = ModelDirectory.Load(tmp["chat"]);
        Assert.Equal(tmp["chat"], loaded.Directory);
        Assert.Equal(generation, loaded.Generation);
        Assert.NotNull(loaded.ChatTemplate);
        Assert.Equal(end, loaded.ChatTemplate!.EndId);
        Assert.Equal([tok.EndOfTextId, end], loaded.EndTokenIds);
        Assert.Equal(0f, MaxDiff(model, loaded.Model));

        // Saved again, it is the same directory.
        loaded.Save(tmp["again"]);
        foreach (var f in Directory.GetFiles(tmp["chat"]).Select(Path.GetFileName))
            Assert.Equal(File.ReadAllBytes(tmp[$"chat/{f}"]), File.ReadAllBytes(tmp[$"again/{f}"]));
    }

    [Fact]
    public async Task ItsGeneratorUsesTheDirectorysDecodingDefaultsWhenACallGivesNone()
    {
        using var tmp = new Fixture.TempDir();
        using var model = ChatSized();
        var generation = new GenerationOptions { MaxNewTokens = 3, DoSample = false };
        using (var saved = new ModelDirectory(model, BpeTokenizer.Gpt2()) { Generation = generation }) saved.Save(tmp["m"]);
        using var loaded = ModelDirectory.Load(tmp["m"]);
        var generator = loaded.CreateGenerator();
        Assert.Equal(generation, generator.Defaults);
        var ids = new List<int>();
        FinishReason? finish = null;
        await foreach (var d in generator.StreamTextAsync("Hello"))
        {
            ids.AddRange(d.Ids);
            finish = d.FinishReason ?? finish;
        }
        Assert.Equal(3, ids.Count);               // max_new_tokens from generation_config.json, not the default 100
        Assert.Equal(FinishReason.Length, finish);
        Assert.Equal(ids, generator.Generate(loaded.Tokenizer.Encode("Hello"))); // greedy: the same tokens
        Assert.Equal(5, generator.Generate(loaded.Tokenizer.Encode("Hello"), generation with { MaxNewTokens = 5 }).Length); // given options win
    }

    [Fact]
    public void ABaseModelHasNoTemplateAndTheDefaultDecodingSettings()
    {
        using var tmp = new Fixture.TempDir();
        using var model = ChatSized();
        new ModelDirectory(model, BpeTokenizer.Gpt2()).Save(tmp["base"]);
        Assert.False(File.Exists(tmp[$"base/{GenerationConfigFile.FileName}"]));
        using var loaded = ModelDirectory.Load(tmp["base"]);
        Assert.Null(loaded.ChatTemplate);
        Assert.Equal(new GenerationOptions(), loaded.Generation);
        Assert.Empty(loaded.EndTokenIds);
        Assert.DoesNotContain("chat_template", File.ReadAllText(tmp["base/tokenizer_config.json"]));
    }

    [Fact]
    public void AQuantisedModelSavesAsInt8AndLoadsBackAsTheSameInt8Layers()
    {
        using var tmp = new Fixture.TempDir();
        var tok = BpeTokenizer.Gpt2();
        using var model = ChatSized(seed: 5);
        Int8WeightOnly.Quantize(model);
        new ModelDirectory(model, tok) { Generation = new GenerationOptions { MaxNewTokens = 5 } }.Save(tmp["int8"]);
        Assert.Equal(["config.json", "generation_config.json", "merges.txt", "model.int8.safetensors", "quantization_config.json", "tokenizer_config.json", "vocab.json"],
            Directory.GetFiles(tmp["int8"]).Select(Path.GetFileName).Order());

        using var loaded = ModelDirectory.Load(tmp["int8"]);
        Assert.True(Int8WeightOnly.IsQuantized(loaded.Model));
        Assert.Equal(5, loaded.Generation.MaxNewTokens);
        Assert.Equal(0f, MaxDiff(model, loaded.Model));

        // Saved again, the int8 file holds the same tensors.
        loaded.Save(tmp["again"]);
        Assert.Equal(File.ReadAllBytes(tmp["int8/model.int8.safetensors"]), File.ReadAllBytes(tmp["again/model.int8.safetensors"]));

        // Asked for fp32, the dequantised weights: a float model, close to the int8 one.
        using var asFloat = ModelDirectory.Load(tmp["int8"], new LoadOptions { Precision = InferencePrecision.Float32 });
        Assert.False(Int8WeightOnly.IsQuantized(asFloat.Model));
        Assert.Contains(asFloat.Model.modules(), m => m is TorchSharp.Modules.Linear);
    }

    [Fact]
    public void AutoDecodesFp32OnTheOnnxEngineOnTheCpuAndKeepsTorchForBf16Int8AndModelsItCannotRun()
    {
        using var tmp = new Fixture.TempDir();
        using (var model = ChatSized()) new ModelDirectory(model, BpeTokenizer.Gpt2()).Save(tmp["m"]);
        using (var fp32 = ModelDirectory.Load(tmp["m"]))
            Assert.Equal(OnnxPrecision.Float32, Assert.IsType<OnnxRuntimeEngine>(fp32.Model.Engine).Precision);
        using (var torch = ModelDirectory.Load(tmp["m"], new LoadOptions { Engine = DecodingEngineKind.Torch }))
            Assert.Null(torch.Model.Engine);
        foreach (var precision in new[] { InferencePrecision.BFloat16, InferencePrecision.Int8 })
        {
            using var loaded = ModelDirectory.Load(tmp["m"], new LoadOptions { Precision = precision });
            Assert.Null(loaded.Model.Engine);
        }
        // A head size of 6 (n_embd 12, 2 heads) is not the onnx engine's: auto runs it on torch, onnx on request says why.
        using (var odd = Gpt.Create(new GptConfig { VocabSize = BpeTokenizer.Gpt2().VocabSize, BlockSize = 16, NLayer = 1, NHead = 2, NEmbd = 12 }))
            new ModelDirectory(odd, BpeTokenizer.Gpt2()).Save(tmp["odd"]);
        using (var odd = ModelDirectory.Load(tmp["odd"]))
            Assert.Null(odd.Model.Engine);
        var e = Assert.Throws<GptSharpException>(() => ModelDirectory.Load(tmp["odd"], new LoadOptions { Engine = DecodingEngineKind.OnnxRuntime }));
        Assert.Contains("head size", e.Message);

        Assert.Equal(DecodingEngineKind.OnnxRuntime, DecodingEngineNames.Resolve(DecodingEngineKind.Auto, InferencePrecision.Float32));
        Assert.Equal(DecodingEngineKind.Torch, DecodingEngineNames.Resolve(DecodingEngineKind.Auto, InferencePrecision.Float32, onnxRuns: false));
        Assert.Equal(DecodingEngineKind.OnnxRuntime, DecodingEngineNames.Resolve(DecodingEngineKind.Auto, InferencePrecision.Int4, onnxRuns: false));
        Assert.Equal(DecodingEngineKind.Torch, DecodingEngineNames.Resolve(DecodingEngineKind.Auto, InferencePrecision.Int8));
    }

    [Fact]
    public void AFloatDirectoryLoadsInTheAskedPrecision()
    {
        using var tmp = new Fixture.TempDir();
        using (var model = ChatSized()) new ModelDirectory(model, BpeTokenizer.Gpt2()).Save(tmp["m"]);
        using (var int8 = ModelDirectory.Load(tmp["m"], new LoadOptions { Precision = InferencePrecision.Int8 }))
            Assert.True(Int8WeightOnly.IsQuantized(int8.Model));
        using (var bf16 = ModelDirectory.Load(tmp["m"], new LoadOptions { Precision = InferencePrecision.BFloat16 }))
        {
            // A bf16 module: every weight in bf16, no fp32 copies kept beside them.
            Assert.All(bf16.Model.parameters(), p => Assert.Equal(ScalarType.BFloat16, p.dtype));
            Assert.Equal(ScalarType.BFloat16, PrecisionSetup.WeightType(bf16.Model));
            using (var fp32 = ModelDirectory.Load(tmp["m"]))
                Assert.InRange(MaxDiff(fp32.Model, bf16.Model), 0f, 0.5f); // the same model, in bf16's 8 bits
            var e = Assert.Throws<GptSharpException>(() => PrecisionSetup.Apply(bf16.Model, InferencePrecision.Float32));
            Assert.Contains("weights are BFloat16", e.Message);
        }
        using (var auto = ModelDirectory.Load(tmp["m"]))
        {
            Assert.False(Int8WeightOnly.IsQuantized(auto.Model));
            Assert.Null(auto.Model.Precision.ComputeType);
        }
    }

    [Fact]
    public void AQuantisedModelCannotBeSavedAsFloatOrTrained()
    {
        using var tmp = new Fixture.TempDir();
        using var model = ChatSized();
        Int8WeightOnly.Quantize(model);
        var e = Assert.Throws<GptSharpException>(() => HfCheckpoint.Save(model, tmp["float"]));
        Assert.Contains("quantised to int8", e.Message);
        Assert.False(File.Exists(tmp["float/model.safetensors"]));

        using var ids = tensor(new long[] { 1, 2, 3 }).unsqueeze(0);
        using var optimizer = optim.AdamW(model.parameters(), lr: 1e-3);
        e = Assert.Throws<GptSharpException>(() => Gpt.Loss(model.Forward(ids[.., ..^1]), ids[.., 1..]).backward());
        Assert.Contains("quantised to int8", e.Message);
    }
}
