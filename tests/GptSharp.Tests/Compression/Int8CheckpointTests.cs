using System.Globalization;
using System.Text.Json;
using GptSharp.Compression;
using GptSharp.Evaluation;
using GptSharp.Models;
using GptSharp.Models.Quantized;
using GptSharp.Tests.Cli;
using GptSharp.Tokenization;
using TorchSharp;
using Xunit.Abstractions;
using static TorchSharp.torch;
using GptSharp.Checkpoints;
using GptSharp.IO;
using GptSharp.Inference;
using GptSharp.Tests.IO;

namespace GptSharp.Tests.Compression;

public class Int8CheckpointTests(ITestOutputHelper log)
{
    internal const string Text = "The quick brown fox jumps over the lazy dog. A stitch in time saves nine. " +
                        "The early bird catches the worm, and the quick brown fox jumps again. ";

    /// <summary>The tiny reference GPT-2 (random weights) with tokenizer and generation files beside it.</summary>
    internal static Fixture.TempDir ModelDir()
    {
        var tmp = new Fixture.TempDir();
        Directory.CreateDirectory(tmp["fp32"]);
        foreach (var f in new[] { "config.json", "model.safetensors" })
            File.Copy(Fixture.Path("gpt2-tiny-hf", f), Path.Combine(tmp["fp32"], f));
        BpeTokenizer.Gpt2().Save(tmp["fp32"]);
        File.WriteAllText(Path.Combine(tmp["fp32"], GenerationConfigFile.FileName), "{\"max_new_tokens\": 7}");
        return tmp;
    }

    [Fact]
    public async Task QuantizeCommandWritesAnInt8DirectoryThatLoadsTransparently()
    {
        using var tmp = ModelDir();
        var (code, output, error) = await CliRunner.Run("quantize", "--model", tmp["fp32"], "--output", tmp["int8"]);
        Assert.True(code == 0, error);
        log.WriteLine(output);
        Assert.Contains("quantised 8 Linear weights to int8", output);

        string[] files = Directory.GetFiles(tmp["int8"]).Select(Path.GetFileName).Order().ToArray()!;
        Assert.Equal(["config.json", "generation_config.json", "merges.txt", "model.int8.safetensors", "quantization_config.json", "tokenizer_config.json", "vocab.json"],
            files.Where(f => f != "special_tokens_map.json"));
        using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(tmp["int8"], Int8Checkpoint.ConfigFile)));
        Assert.Equal(8, config.RootElement.GetProperty("bits").GetInt32());

        // Stored as I8 values [out, in] with F32 scales [out]; everything else float32.
        var stored = SafeTensors.Read(Path.Combine(tmp["int8"], Int8Checkpoint.WeightsFile));
        try
        {
            Assert.Equal(ScalarType.Int8, stored["h.0.attn.c_attn.qweight"].dtype);
            Assert.Equal(new long[] { 192, 64 }, stored["h.0.attn.c_attn.qweight"].shape);
            Assert.Equal(new long[] { 192 }, stored["h.0.attn.c_attn.scale"].shape);
            Assert.Equal(ScalarType.Float32, stored["wte.weight"].dtype);
            Assert.DoesNotContain("h.0.attn.c_attn.weight", stored.Keys);
            long int8Bytes = stored.Where(kv => kv.Key.EndsWith(".qweight") || kv.Key.EndsWith(".scale")).Sum(kv => kv.Value.NumberOfElements * kv.Value.ElementSize);
            long fp32Bytes = stored.Where(kv => kv.Key.EndsWith(".qweight")).Sum(kv => kv.Value.NumberOfElements * 4);
            double ratio = int8Bytes / (double)fp32Bytes;
            log.WriteLine($"quantised tensors: {fp32Bytes} B fp32 → {int8Bytes} B int8+scales ({ratio:P1})");
            Assert.InRange(ratio, 0.25, 0.27); // 1 byte instead of 4, plus one scale per 64-256 weights
        }
        finally
        {
            foreach (var t in stored.Values) t.Dispose();
        }

        // Loading needs no flag: no model.safetensors, so the int8 file is dequantised. The output barely moves.
        using var fp32 = ModelDirectory.Load(tmp["fp32"]);
        using var int8 = ModelDirectory.Load(tmp["int8"]);
        using var ids = tensor(BpeTokenizer.Gpt2().Encode(Text).Select(i => (long)i).ToArray()).unsqueeze(0);
        using var noGrad = no_grad();
        using var a = fp32.Model.Forward(ids);
        using var b = int8.Model.Forward(ids);
        using var diff = (a - b).abs().max();
        using var magnitude = a.abs().max();
        using var meanDiff = (a - b).abs().mean();
        using var meanLogit = a.abs().mean();
        float maxDiff = diff.item<float>(), largest = magnitude.item<float>(), typicalDiff = meanDiff.item<float>(), typical = meanLogit.item<float>();
        double pplFp32 = new TextEvaluator(fp32.Model, fp32.Tokenizer).Evaluate(Text).Perplexity!.Value;
        double pplInt8 = new TextEvaluator(int8.Model, int8.Tokenizer).Evaluate(Text).Perplexity!.Value;
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"gpt2-tiny-hf: logits |fp32 - int8| max {maxDiff:G4}, mean {typicalDiff:G4} (|logit| max {largest:G4}, mean {typical:G4}); perplexity {pplFp32:F2} → {pplInt8:F2}"));
        // Over ~2 million logits the worst one moves a few percent of the range; the typical one far less.
        Assert.True(maxDiff < 0.05f * largest, $"logits differ by up to {maxDiff}, more than 5% of the largest logit {largest}");
        Assert.True(typicalDiff < 0.03f * typical, $"logits differ by {typicalDiff} on average, more than 3% of the mean |logit| {typical}");
        Assert.True(Math.Abs(pplInt8 / pplFp32 - 1) < 0.02, $"int8 perplexity {pplInt8} is not within 2% of fp32 {pplFp32}");
        Assert.Equal(7, GenerationConfigFile.Read(tmp["int8"]).MaxNewTokens);
    }

    [Fact]
    public void TrainedModelKeepsItsPerplexity()
    {
        // A small model trained briefly on repetitive text, so perplexity means something (a random model's is ~vocab size).
        var tokenizer = BpeTokenizer.Gpt2();
        using var model = new Gpt(new GptConfig { VocabSize = 50257, BlockSize = 64, NLayer = 2, NHead = 4, NEmbd = 64 }, seed: 5);
        string corpus = string.Concat(Enumerable.Repeat(Text, 20));
        int[] ids = tokenizer.Encode(corpus);
        model.train();
        using (var optimizer = optim.AdamW(model.parameters(), lr: 3e-3))
        {
            var rng = new Random(1);
            for (int step = 0; step < 60; step++)
            {
                using var scope = NewDisposeScope();
                int start = rng.Next(ids.Length - 65);
                var x = tensor(ids.AsSpan(start, 65).ToArray().Select(i => (long)i).ToArray()).unsqueeze(0);
                optimizer.zero_grad();
                var loss = Gpt.Loss(model.Forward(x[.., ..^1]), x[.., 1..]);
                loss.backward();
                optimizer.step();
            }
        }
        model.eval();

        using var tmp = new Fixture.TempDir();
        new ModelDirectory(model, tokenizer).Save(tmp["fp32"]);
        var report = WeightQuantization.QuantizeDirectory(tmp["fp32"], tmp["int8"]);
        using var fp32 = ModelDirectory.Load(tmp["fp32"]);
        using var int8 = ModelDirectory.Load(tmp["int8"]);

        double before = new TextEvaluator(fp32.Model, tokenizer).Evaluate(Text + Text).Perplexity!.Value;
        double after = new TextEvaluator(int8.Model, tokenizer).Evaluate(Text + Text).Perplexity!.Value;
        double change = after / before - 1;
        using var probe = tensor(tokenizer.Encode(Text).Select(i => (long)i).ToArray()).unsqueeze(0);
        float maxDiff;
        using (no_grad())
        using (var a = fp32.Model.Forward(probe))
        using (var b = int8.Model.Forward(probe))
        using (var d = (a - b).abs().max())
            maxDiff = d.item<float>();
        log.WriteLine($"trained tiny model: logits max |fp32 - int8| = {maxDiff:G4}");
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"trained tiny model: perplexity fp32 {before:F4} → int8 {after:F4} ({change:+0.00%;-0.00%}); " +
            $"weights file {report.OriginalFileBytes} → {report.QuantizedFileBytes} B; Linear weights {report.LinearFloat32Bytes} → {report.LinearQuantizedBytes} B"));
        Assert.True(before < 50, $"training should have lowered perplexity well below the vocabulary size (got {before})");
        Assert.True(Math.Abs(change) < 0.02, $"int8 perplexity {after} is not within 2% of fp32 {before}");
        Assert.True(maxDiff < 0.1f, $"logits differ by up to {maxDiff}");
        Assert.InRange(report.LinearQuantizedBytes / (double)report.LinearFloat32Bytes, 0.25, 0.27);
        Assert.True(report.QuantizedFileBytes < report.OriginalFileBytes);
    }

    [Fact]
    public void TheInt8FileKeepsTheFloatTensorsAsTheyWereAndQuantisesTheLinearWeights()
    {
        using var tmp = ModelDir();
        WeightQuantization.QuantizeDirectory(tmp["fp32"], tmp["int8"]);
        var before = SafeTensors.Read(Path.Combine(tmp["fp32"], HfCheckpoint.WeightsFile));
        var after = SafeTensors.Read(Path.Combine(tmp["int8"], Int8Checkpoint.WeightsFile));
        try
        {
            foreach (var name in new[] { "wte.weight", "wpe.weight", "h.0.attn.c_attn.bias", "h.1.mlp.c_proj.bias", "ln_f.weight" })
                Assert.True(Same(before[name], after[name]), $"{name} changed");
            // Conv1D [in, out] in the float file; [out, in] int8 values and their scales in the int8 one.
            using var expected = Int8Weights.Quantize(before["h.0.mlp.c_fc.weight"].t());
            Assert.True(Same(expected.Values, after["h.0.mlp.c_fc.qweight"]));
            Assert.True(Same(expected.Scale, after["h.0.mlp.c_fc.scale"]));
        }
        finally
        {
            foreach (var t in before.Values.Concat(after.Values)) t.Dispose();
        }
    }

    static bool Same(Tensor a, Tensor b)
    {
        if (a.dtype != b.dtype || !a.shape.SequenceEqual(b.shape)) return false;
        using var eq = a.equal(b);
        using var all = eq.all();
        return all.item<bool>();
    }

    [Fact]
    public async Task TheFilesWithoutWeightsComeAlongUnchanged()
    {
        using var tmp = ModelDir();
        // A Hugging Face directory's config carries keys GptSharp does not model; a quantised copy keeps them.
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(tmp["fp32/config.json"]))!.AsObject();
        config["architectures"] = new System.Text.Json.Nodes.JsonArray("GPT2LMHeadModel");
        config["task_specific_params"] = new System.Text.Json.Nodes.JsonObject { ["text-generation"] = new System.Text.Json.Nodes.JsonObject { ["max_length"] = 50 } };
        File.WriteAllText(tmp["fp32/config.json"], config.ToJsonString());
        File.WriteAllText(tmp["fp32/README.md"], "# a model card\n");
        var (code, _, error) = await CliRunner.Run("quantize", "--model", tmp["fp32"], "--output", tmp["int8"]);
        Assert.True(code == 0, error);
        foreach (var f in Directory.GetFiles(tmp["fp32"]).Select(Path.GetFileName).Where(f => f != "model.safetensors"))
            Assert.Equal(File.ReadAllBytes(tmp[$"fp32/{f}"]), File.ReadAllBytes(tmp[$"int8/{f}"]));
        using var loaded = ModelDirectory.Load(tmp["int8"]);
        Assert.True(Int8WeightOnly.IsQuantized(loaded.Model));
    }

    [Fact]
    public async Task OutputMustDifferFromInput()
    {
        using var tmp = ModelDir();
        var (code, _, error) = await CliRunner.Run("quantize", "--model", tmp["fp32"], "--output", tmp["fp32"]);
        Assert.Equal(1, code);
        Assert.Contains("--output must differ from --model", error);
    }

    [Fact]
    public async Task QuantizeReplacesAnExistingFolderOnlyWithOverwrite()
    {
        using var tmp = ModelDir();
        Directory.CreateDirectory(tmp["mine"]);
        File.WriteAllText(tmp["mine/notes.txt"], "my files");
        var (code, _, error) = await CliRunner.Run("quantize", "--model", tmp["fp32"], "--output", tmp["mine"]);
        Assert.Equal(1, code);
        Assert.Contains($"{tmp["mine"]}: output directory already exists and is not empty; pass --overwrite", error);
        Assert.Equal("my files", File.ReadAllText(tmp["mine/notes.txt"]));

        (code, _, error) = await CliRunner.Run("quantize", "--model", tmp["fp32"], "--output", tmp["mine"], "--overwrite");
        Assert.True(code == 0, error);
        Assert.True(Int8Checkpoint.Exists(tmp["mine"]));
        Assert.False(File.Exists(tmp["mine/notes.txt"]));
    }

    [Fact]
    public async Task QuantizeNeverReplacesTheModelsParentOrTheWorkingDirectoryEvenWithOverwrite()
    {
        using var tmp = ModelDir();
        File.WriteAllText(tmp["beside.txt"], "beside the model");
        var (code, _, error) = await CliRunner.Run("quantize", "--model", tmp["fp32"], "--output", tmp.Root, "--overwrite");
        Assert.Equal(1, code);
        Assert.Contains($"refusing to replace a directory that holds an input of this command ({tmp["fp32"]})", error);
        Assert.Equal("beside the model", File.ReadAllText(tmp["beside.txt"]));
        using (ModelDirectory.Load(tmp["fp32"])) { }

        // The working directory: the library check must refuse before the command is even tried (it would wipe the test folder).
        Assert.Throws<GptSharpException>(() => OutputDirectory.Check(".", true, "--overwrite", [tmp["fp32"]]));
        var before = Directory.GetFileSystemEntries(".").Order().ToArray();
        (code, _, error) = await CliRunner.Run("quantize", "--model", tmp["fp32"], "--output", ".", "--overwrite");
        Assert.Equal(1, code);
        Assert.Contains(".: refusing to replace the working directory", error);
        Assert.Equal(before, Directory.GetFileSystemEntries(".").Order().ToArray());
    }

    [Fact]
    public async Task QuantizeIntoAnUnwritablePlaceFailsBeforeLoadingNamingTheUsersPath()
    {
        using var tmp = ModelDir();
        string target = Path.Combine(GptSharp.Tests.IO.Unwritable.Directory(tmp), "int8");
        var (code, output, error) = await CliRunner.Run("quantize", "--model", tmp["fp32"], "--output", target);
        Assert.Equal(1, code);
        Assert.StartsWith($"error: {target}: cannot write there", error);
        Assert.DoesNotContain(".tmp-", error);
        Assert.Equal("", output);
    }

    [Fact]
    public void AQuantizedTensorWithoutItsScaleIsReported()
    {
        using var tmp = new Fixture.TempDir();
        using var model = new Gpt(new GptConfig { VocabSize = 100, BlockSize = 8, NLayer = 1, NHead = 2, NEmbd = 16 });
        Int8Checkpoint.Save(model, tmp.Root);
        var stored = SafeTensors.Read(tmp[Int8Checkpoint.WeightsFile]);
        stored.Remove("h.0.mlp.c_fc.scale", out var scale);
        scale!.Dispose();
        SafeTensors.Write(tmp[Int8Checkpoint.WeightsFile], stored);
        foreach (var t in stored.Values) t.Dispose();

        var e = Assert.Throws<GptSharpException>(() => HfCheckpoint.Load(tmp.Root));
        Assert.Contains("'h.0.mlp.c_fc.qweight' has no 'h.0.mlp.c_fc.scale'", e.Message);
    }
}
