using System.Globalization;
using System.Text.Json;
using GptSharp.Checkpoints;
using GptSharp.Checkpoints.Onnx;
using GptSharp.Evaluation;
using GptSharp.IO;
using GptSharp.Inference;
using GptSharp.Inference.Onnx;
using GptSharp.Models;
using GptSharp.Tests.Cli;
using GptSharp.Tokenization;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace GptSharp.Tests.Compression;

public class Int4CheckpointTests(ITestOutputHelper log)
{
    // The tiny reference GPT-2 with tokenizer and generation files (fp32/), and a text to score, as the int8 tests use.
    const string Text = Int8CheckpointTests.Text;
    static Fixture.TempDir ModelDir() => Int8CheckpointTests.ModelDir();

    [Fact]
    public async Task QuantizeBits4WritesA4BitDirectoryThatRunsOnTheOnnxEngineWithTheSameWeights()
    {
        using var tmp = ModelDir();
        var (code, output, error) = await CliRunner.Run("quantize", "--model", tmp["fp32"], "--output", tmp["int4"], "--bits", "4");
        Assert.True(code == 0, error);
        log.WriteLine(output);
        Assert.Contains("quantised 8 Linear weights to 4 bits", output);
        Assert.Contains("model.int4.safetensors", output);
        Assert.False(File.Exists(Path.Combine(tmp["int4"], HfCheckpoint.WeightsFile)));
        using (var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(tmp["int4"], Int8Checkpoint.ConfigFile))))
        {
            Assert.Equal(4, config.RootElement.GetProperty("bits").GetInt32());
            Assert.Equal(32, config.RootElement.GetProperty("group_size").GetInt32());
        }
        var stored = SafeTensors.Read(Path.Combine(tmp["int4"], Int4Checkpoint.WeightsFile));
        try
        {
            // c_attn: 64 in, 192 out → 2 blocks of 32 per row, 16 bytes each.
            Assert.Equal(ScalarType.Byte, stored["h.0.attn.c_attn.qweight4"].dtype);
            Assert.Equal(new long[] { 192, 32 }, stored["h.0.attn.c_attn.qweight4"].shape);
            Assert.Equal(new long[] { 192, 2 }, stored["h.0.attn.c_attn.scales"].shape);
            Assert.DoesNotContain("h.0.attn.c_attn.weight", stored.Keys);
        }
        finally
        {
            foreach (var t in stored.Values) t.Dispose();
        }

        // Loads with no flag: auto is int4 on the onnx engine, and the float model holds the same 4-bit weights that a
        // float directory loaded as int4 rounds itself to.
        using var fromFloat = ModelDirectory.Load(tmp["fp32"], new LoadOptions { Precision = InferencePrecision.Int4 });
        using var fromInt4 = ModelDirectory.Load(tmp["int4"]);
        var engine = Assert.IsType<OnnxRuntimeEngine>(fromInt4.Model.Engine);
        Assert.Equal(OnnxPrecision.Int4, engine.Precision);
        foreach (var ((name, a), (_, b)) in fromFloat.Model.named_parameters().Zip(fromInt4.Model.named_parameters()))
            Assert.True(a.equal(b).all().item<bool>(), $"{name} differs");
        var greedy = new GenerationOptions { DoSample = false, MaxNewTokens = 12, StopAtEndOfText = false };
        int[] prompt = BpeTokenizer.Gpt2().Encode("Hello, my dog is cute");
        Assert.Equal(fromFloat.CreateGenerator().Generate(prompt, greedy), fromInt4.CreateGenerator().Generate(prompt, greedy));
        Assert.Equal(7, GenerationConfigFile.Read(tmp["int4"]).MaxNewTokens);

        // fp32 on request: the dequantised weights, on the onnx engine in fp32 (auto's engine for fp32 on the CPU), or on torch.
        using var asFloat = ModelDirectory.Load(tmp["int4"], new LoadOptions { Precision = InferencePrecision.Float32 });
        Assert.Equal(OnnxPrecision.Float32, Assert.IsType<OnnxRuntimeEngine>(asFloat.Model.Engine).Precision);
        using var onTorch = ModelDirectory.Load(tmp["int4"], new LoadOptions { Precision = InferencePrecision.Float32, Engine = DecodingEngineKind.Torch });
        Assert.Null(onTorch.Model.Engine);

        // Perplexity moves, but not far, on a random model whose perplexity is about its vocabulary size.
        using var fp32 = ModelDirectory.Load(tmp["fp32"]);
        double before = new TextEvaluator(fp32.Model, fp32.Tokenizer).Evaluate(Text).Perplexity!.Value;
        double after = new TextEvaluator(fromInt4.Model, fromInt4.Tokenizer).Evaluate(Text).Perplexity!.Value;
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"gpt2-tiny-hf: perplexity fp32 {before:F2} → int4 {after:F2}"));
        Assert.NotEqual(before, after);
        Assert.InRange(after / before, 0.9, 1.1);
    }

    [Fact]
    public async Task QuantizeRejectsOtherBitWidthsAndWritesNothing()
    {
        using var tmp = ModelDir();
        var (code, _, error) = await CliRunner.Run("quantize", "--model", tmp["fp32"], "--output", tmp["int3"], "--bits", "3");
        Assert.Equal(1, code);
        Assert.Contains("--bits must be 8 or 4 (got 3)", error);
        Assert.False(Directory.Exists(tmp["int3"]));
    }
}
