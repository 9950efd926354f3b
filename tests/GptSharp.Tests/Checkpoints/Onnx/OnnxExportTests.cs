using System.Text.Json.Nodes;
using GptSharp.Checkpoints;
using GptSharp.Checkpoints.Onnx;
using GptSharp.Inference;
using GptSharp.Inference.Onnx;
using GptSharp.Models;
using GptSharp.Models.Quantized;
using GptSharp.Tokenization;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace GptSharp.Tests.Checkpoints.Onnx;

public class OnnxExportTests(ITestOutputHelper output)
{
    const float Fp32Tolerance = 1e-4f;
    static readonly long[] Prompt = [5, 17, 42, 99, 3, 250, 7];

    static BpeTokenizer SmallTokenizer() =>
        new BpeTrainer(new BpeTrainerOptions { VocabSize = 300, MinPairFrequency = 1 }).Train(["the cat sat on the mat", "the dog sat on the log"]);

    static ModelDirectory TinyModel(BpeTokenizer tokenizer, long seed = 7) =>
        new(Gpt.Create(new GptConfig { VocabSize = tokenizer.VocabSize, BlockSize = 32, NLayer = 2, NHead = 2, NEmbd = 32 }, seed), tokenizer);

    static OnnxModelRunner Runner(string dir, GptConfig c) => new(dir, c.NLayer, c.NHead, c.HeadSize);

    static float[] TorchLogits(Gpt model, long[] ids, KvCache? cache = null)
    {
        using var _ = no_grad();
        using var idx = tensor(ids).unsqueeze(0);
        using var logits = model.Forward(idx, cache);
        return logits.data<float>().ToArray();
    }

    static float MaxDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        Assert.Equal(a.Length, b.Length);
        float max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }

    static long[] Range(int start, int count) => [.. Enumerable.Range(start, count).Select(i => (long)i)];
    static long[] Ones(int count) => [.. Enumerable.Repeat(1L, count)];

    [Fact]
    public void LogitsMatchTorchSharpForAPromptAndForDecodingStepsWithThePast()
    {
        using var tmp = new Fixture.TempDir();
        using var model = TinyModel(SmallTokenizer());
        var config = model.Model.Config;
        model.Model.eval();
        OnnxExport.Export(model, tmp["onnx"]);
        using var ort = Runner(tmp["onnx"], config);

        var step = ort.Run([Prompt], [Range(0, Prompt.Length)], [Ones(Prompt.Length)]);
        Assert.Equal([1L, Prompt.Length, config.VocabSize], step.LogitsShape);
        Assert.Equal([2L, 1, config.NHead, Prompt.Length, config.HeadSize], step.PresentShape);
        Assert.InRange(MaxDiff(step.Logits, TorchLogits(model.Model, Prompt)), 0, Fp32Tolerance);

        // Two decoding steps: ONNX with the presents as pasts, TorchSharp with its KV cache.
        using var cache = new KvCache(config.NLayer, config.BlockSize);
        TorchLogits(model.Model, Prompt, cache);
        int length = Prompt.Length;
        foreach (long token in new long[] { 11, 200 })
        {
            length++;
            step = ort.Run([[token]], [[length - 1]], [Ones(length)], step);
            Assert.Equal([2L, 1, config.NHead, length, config.HeadSize], step.PresentShape);
            Assert.InRange(MaxDiff(step.Logits, TorchLogits(model.Model, [token], cache)), 0, Fp32Tolerance);
        }
    }

    [Fact]
    public void ALeftPaddedRowOfABatchMatchesItsUnpaddedSelf()
    {
        using var tmp = new Fixture.TempDir();
        using var model = TinyModel(SmallTokenizer(), seed: 11);
        var config = model.Model.Config;
        model.Model.eval();
        OnnxExport.Export(model, tmp["onnx"]);
        using var ort = Runner(tmp["onnx"], config);

        long[] shorter = [8, 9, 10, 11];
        int pad = Prompt.Length - shorter.Length;
        var step = ort.Run([Prompt, [.. Enumerable.Repeat(0L, pad), .. shorter]],
                           [Range(0, Prompt.Length), [.. Enumerable.Repeat(0L, pad), .. Range(0, shorter.Length)]],
                           [Ones(Prompt.Length), [.. Enumerable.Repeat(0L, pad), .. Ones(shorter.Length)]]);
        int v = config.VocabSize, rowSize = Prompt.Length * v;
        Assert.InRange(MaxDiff(step.Logits.AsSpan(0, rowSize), TorchLogits(model.Model, Prompt)), 0, Fp32Tolerance);
        Assert.InRange(MaxDiff(step.Logits.AsSpan(rowSize + pad * v, shorter.Length * v), TorchLogits(model.Model, shorter)), 0, Fp32Tolerance);

        // The next step keeps the padding masked.
        step = ort.Run([[3], [4]], [[Prompt.Length], [shorter.Length]],
                       [Ones(Prompt.Length + 1), [.. Enumerable.Repeat(0L, pad), .. Ones(shorter.Length + 1)]], step);
        Assert.InRange(MaxDiff(step.Logits.AsSpan(0, v), TorchLogits(model.Model, [.. Prompt, 3])[^v..]), 0, Fp32Tolerance);
        Assert.InRange(MaxDiff(step.Logits.AsSpan(v, v), TorchLogits(model.Model, [.. shorter, 4])[^v..]), 0, Fp32Tolerance);
    }

    [Fact]
    public void GreedyDecodingInOnnxRuntimeEqualsTheTextGenerator()
    {
        using var tmp = new Fixture.TempDir();
        using var model = TinyModel(SmallTokenizer(), seed: 5);
        model.Model.eval();
        OnnxExport.Export(model, tmp["onnx"]);
        using var ort = Runner(tmp["onnx"], model.Model.Config);
        int[] prompt = [.. Prompt.Select(t => (int)t)];
        var expected = new TextGenerator(model.Model).Generate(prompt, new GenerationOptions { DoSample = false, MaxNewTokens = 12, StopAtEndOfText = false });
        Assert.Equal(12, expected.Length);
        Assert.Equal(expected, ort.Greedy(prompt, 12, model.Model.Config.VocabSize));
    }

    [Fact]
    public void TheTinyHuggingFaceGpt2ExportsWithItsLogits()
    {
        using var tmp = new Fixture.TempDir();
        var result = OnnxExport.Export(Fixture.Path("gpt2-tiny-hf"), tmp["onnx"]);
        Assert.Equal(["config.json", "genai_config.json", "generation_config.json", "merges.txt", "model.onnx", "model.onnx.data",
                      "tokenizer.json", "tokenizer_config.json", "vocab.json"], result.Files);
        // The weights are external: the graph file is small whatever the model's size.
        Assert.True(result.ModelBytes < 100_000 && result.DataBytes > 4 * 3_000_000, $"{result.ModelBytes} / {result.DataBytes} bytes");
        using var model = ModelDirectory.Load(Fixture.Path("gpt2-tiny-hf"));
        using var ort = Runner(tmp["onnx"], model.Model.Config);
        long[] ids = [.. model.Tokenizer.Encode("Hello, world! The tiny model speaks.").Select(t => (long)t)];
        var step = ort.Run([ids], [Range(0, ids.Length)], [Ones(ids.Length)]);
        float diff = MaxDiff(step.Logits, TorchLogits(model.Model, ids));
        output.WriteLine($"gpt2-tiny-hf fp32: max |ONNX Runtime - TorchSharp| = {diff:G3}");
        Assert.InRange(diff, 0, Fp32Tolerance);
    }

    [Fact]
    public void GenAiConfigDescribesTheGraphForTheGpt2ModelType()
    {
        using var tmp = new Fixture.TempDir();
        using var model = TinyModel(SmallTokenizer());
        OnnxExport.Export(model, tmp["onnx"]);
        var json = JsonNode.Parse(File.ReadAllText(tmp["onnx/genai_config.json"]))!;
        var m = json["model"]!;
        Assert.Equal("gpt2", (string?)m["type"]);
        Assert.Equal(32, (int?)m["context_length"]);
        Assert.Equal(model.Model.Config.VocabSize, (int?)m["vocab_size"]);
        Assert.Equal(model.Tokenizer.EndOfTextId, (int?)m["eos_token_id"]![0]);
        var d = m["decoder"]!;
        Assert.Equal("model.onnx", (string?)d["filename"]);
        Assert.Equal((2, 2, 16, 32), ((int)d["num_hidden_layers"]!, (int)d["num_attention_heads"]!, (int)d["head_size"]!, (int)d["hidden_size"]!));
        Assert.Equal("past_%d", (string?)d["inputs"]!["past_names"]);
        Assert.Equal("present_%d", (string?)d["outputs"]!["present_names"]);
        Assert.False((bool)json["search"]!["past_present_share_buffer"]!);
    }

    [Theory]
    [InlineData(OnnxPrecision.Int8, 0.005f)]
    [InlineData(OnnxPrecision.Int4, 0.06f)]
    public void QuantisedExportsRunInOnnxRuntimeCloseToFp32(OnnxPrecision precision, float tolerance)
    {
        using var tmp = new Fixture.TempDir();
        using var model = TinyModel(SmallTokenizer());
        model.Model.eval();
        var result = OnnxExport.Export(model, tmp["onnx"], precision);
        var fp32 = OnnxExport.Export(model, tmp["fp32"]);
        Assert.True(result.DataBytes < fp32.DataBytes, $"{result.DataBytes} vs {fp32.DataBytes} bytes");
        using var ort = Runner(tmp["onnx"], model.Model.Config);
        var step = ort.Run([Prompt], [Range(0, Prompt.Length)], [Ones(Prompt.Length)]);
        float diff = MaxDiff(step.Logits, TorchLogits(model.Model, Prompt));
        output.WriteLine($"{precision}: max |ONNX Runtime - TorchSharp fp32| = {diff:G3}");
        Assert.InRange(diff, 0, tolerance);
    }

    [Fact]
    public void QuantisationPacksBlocksWithTheDefaultZeroPoint()
    {
        // One row of 32 weights: the largest magnitude (-8) maps to 0 = -8 around the zero point 8, so the scale is 1;
        // two values a byte, low nibble first; 9 is clamped to the top level, 15.
        float[] w = [.. Enumerable.Range(0, 32).Select(i => i switch { 0 => -8f, 1 => 7f, 2 => 1f, _ => 0f })];
        var (packed, scales, blocks) = BlockQuantization.Quantize(w, 1, 32, 4);
        Assert.Equal((1, 16), (blocks, packed.Length));
        Assert.Equal(1f, scales[0]);
        Assert.Equal(0 | (15 << 4), packed[0]);
        Assert.Equal(9 | (8 << 4), packed[1]);
        var (bytes8, scales8, _) = BlockQuantization.Quantize(w, 1, 32, 8);
        Assert.Equal([0, 240, 144, 128], bytes8[..4]);
        Assert.Equal(1f / 16, scales8[0]);
        // A block whose largest magnitude is positive gets a negative scale: (q - 8) · scale restores the sign.
        var (_, negative, _) = BlockQuantization.Quantize([.. w.Select(v => -v)], 1, 32, 4);
        Assert.Equal(-1f, negative[0]);
        // k not a multiple of the block: the last block is padded with zero points.
        var (partial, _, partialBlocks) = BlockQuantization.Quantize([.. w.Take(20), .. w.Take(20)], 2, 20, 4);
        Assert.Equal((1, 32), (partialBlocks, partial.Length));
        Assert.Equal(8 | (8 << 4), partial[15]);
    }

    [Fact]
    public void AnExistingOutputIsRefusedAndAFailedExportLeavesNothing()
    {
        using var tmp = new Fixture.TempDir();
        Directory.CreateDirectory(tmp["out"]);
        File.WriteAllText(tmp["out/keep.txt"], "mine");
        var e = Assert.Throws<GptSharpException>(() => OnnxExport.Export(Fixture.Path("gpt2-tiny-hf"), tmp["out"]));
        Assert.Contains("--overwrite", e.Message);
        Assert.Equal("mine", File.ReadAllText(tmp["out/keep.txt"]));

        e = Assert.Throws<GptSharpException>(() => OnnxExport.Export(tmp["missing"], tmp["new"]));
        Assert.Contains("not found", e.Message);
        Assert.Equal(["out"], Directory.EnumerateFileSystemEntries(tmp.Root).Select(Path.GetFileName));

        OnnxExport.Export(Fixture.Path("gpt2-tiny-hf"), tmp["out"], overwrite: true);
        Assert.False(File.Exists(tmp["out/keep.txt"]));
        Assert.True(File.Exists(tmp["out/model.onnx"]));
    }
}
