using System.Text.Json.Nodes;
using GptSharp.Checkpoints.Gguf;
using GptSharp.Tests.Checkpoints.Gguf;

namespace GptSharp.Tests.Cli.Commands;

[Collection(nameof(GptSharp.Tests.Training.GlobalTorchRng))]
public class ExportCommandTests
{
    [Fact]
    public async Task ExportsAGgufThatOurReaderReads()
    {
        using var tmp = new Fixture.TempDir();
        var (dir, tok) = GgufExportTests.TinyChatModel(tmp);
        var (code, output, err) = await CliRunner.Run("export", "--model", dir, "--format", "gguf", "--type", "q4_0", "--output", tmp["chat.gguf"]);
        Assert.True(code == 0, err + output);
        Assert.Contains($"wrote {tmp["chat.gguf"]}: GGUF q4_0", output);
        Assert.Contains("chat template", output);
        var f = GgufReader.Read(tmp["chat.gguf"]);
        Assert.Equal(2, f.Metadata["general.file_type"].AsInteger());
        Assert.Equal(GgufTensorType.Q4_0, f.Tensor("blk.1.ffn_up.weight").Type);
        Assert.Equal(tok.VocabSize + 3, f.Metadata["tokenizer.ggml.tokens"].AsStrings().Length);

        // The default type is f16, as llama.cpp's converter; an existing output needs --overwrite.
        (code, _, err) = await CliRunner.Run("export", "--model", dir, "--format", "gguf", "--output", tmp["chat.gguf"]);
        Assert.Equal(1, code);
        Assert.Contains("already exists; pass --overwrite", err);
        (code, output, err) = await CliRunner.Run("export", "--model", dir, "--format", "gguf", "--output", tmp["chat.gguf"], "--overwrite");
        Assert.True(code == 0, err);
        Assert.Equal(GgufTensorType.F16, GgufReader.Read(tmp["chat.gguf"]).Tensor("blk.1.ffn_up.weight").Type);
    }

    [Theory]
    [InlineData("--type", "q5_k")]
    [InlineData("--format", "safetensors")]
    public async Task UnknownChoicesAreParseErrors(string option, string value)
    {
        using var tmp = new Fixture.TempDir();
        string[] args = ["export", "--model", tmp.Root, "--format", "gguf", "--output", tmp["m.gguf"]];
        int i = Array.IndexOf(args, option);
        if (i >= 0) args[i + 1] = value;
        else args = [.. args, option, value];
        var (code, _, err) = await CliRunner.Run(args);
        Assert.NotEqual(0, code);
        Assert.Contains(value, err);
        Assert.False(File.Exists(tmp["m.gguf"]));
    }

    [Fact]
    public async Task BadInputIsAClearErrorAndWritesNothing()
    {
        using var tmp = new Fixture.TempDir();
        var (code, _, err) = await CliRunner.Run("export", "--model", tmp["missing"], "--format", "gguf", "--output", tmp["m.gguf"]);
        Assert.Equal(1, code);
        Assert.Contains("model directory not found", err);

        var (dir, _) = GgufExportTests.TinyChatModel(tmp);
        (code, _, err) = await CliRunner.Run("export", "--model", dir, "--format", "gguf", "--precision", "int8", "--output", tmp["m.gguf"]);
        Assert.Equal(1, code);
        Assert.Contains("--precision applies to --format onnx", err);
        Assert.Equal(["chat"], Directory.GetFileSystemEntries(tmp.Root).Select(e => Path.GetFileName(e)));
    }

    [Fact]
    public async Task ExportsTheTinyGpt2AsOnnx()
    {
        using var tmp = new Fixture.TempDir();
        var (code, output, err) = await CliRunner.Run("export", "--model", Fixture.Path("gpt2-tiny-hf"), "--format", "onnx", "--output", tmp["onnx"]);
        Assert.True(code == 0, err);
        Assert.Contains("model.onnx", output);
        Assert.Contains("fp32", output);
        Assert.Equal("gpt2", (string?)JsonNode.Parse(File.ReadAllText(tmp["onnx/genai_config.json"]))!["model"]!["type"]);
        Assert.True(new FileInfo(tmp["onnx/model.onnx.data"]).Length > 12_000_000);

        // Again: refused without --overwrite, replaced with it (here as int4, a quarter-sized data file or less).
        (code, _, err) = await CliRunner.Run("export", "--model", Fixture.Path("gpt2-tiny-hf"), "--format", "onnx", "--output", tmp["onnx"]);
        Assert.Equal(1, code);
        Assert.Contains("--overwrite", err);
        (code, output, err) = await CliRunner.Run("export", "--model", Fixture.Path("gpt2-tiny-hf"), "--format", "onnx", "--output", tmp["onnx"],
                                                  "--precision", "int4", "--overwrite");
        Assert.True(code == 0, err);
        Assert.Contains("int4", output);
    }

    [Theory]
    [InlineData("--precision", "int2", "unknown ONNX precision 'int2'")]
    [InlineData("--precision", "bf16", "bf16 is a precision of the onnx engine only")]
    [InlineData("--type", "q4_0", "--type applies to GGUF")]
    public async Task BadOnnxInputIsAClearErrorAndWritesNothing(string option, string value, string message)
    {
        using var tmp = new Fixture.TempDir();
        string[] args = ["export", "--model", Fixture.Path("gpt2-tiny-hf"), "--output", tmp["onnx"]];
        args = [.. args, "--format", "onnx", option, value];
        var (code, _, err) = await CliRunner.Run(args);
        Assert.Equal(1, code);
        Assert.Contains(message, err);
        Assert.Empty(Directory.EnumerateFileSystemEntries(tmp.Root));
    }

    [Fact]
    public async Task AMissingModelDirectoryIsNamed()
    {
        using var tmp = new Fixture.TempDir();
        var (code, _, err) = await CliRunner.Run("export", "--model", tmp["nope"], "--format", "onnx", "--output", tmp["onnx"]);
        Assert.Equal(1, code);
        Assert.Contains("nope: model directory not found", err);
        Assert.False(Directory.Exists(tmp["onnx"]));
    }

    [Fact]
    public async Task HelpNamesTheFormatsAndTypes()
    {
        var (code, output, _) = await CliRunner.Run("export", "--help");
        Assert.Equal(0, code);
        foreach (var word in new[] { "--format", "gguf", "onnx", "--type", "f32", "f16", "q8_0", "q4_0", "--precision", "int8", "int4", "--overwrite", "llama.cpp", "genai_config.json" })
            Assert.Contains(word, output);
    }
}
