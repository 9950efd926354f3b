using System.Text.Json.Nodes;

namespace GptSharp.Tests.Cli.Commands;

public class ExportCommandTests
{
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
    [InlineData("--format", "tflite", "unknown export format 'tflite'")]
    [InlineData("--precision", "int2", "unknown ONNX precision 'int2'")]
    [InlineData("--type", "q4_0", "--type applies to GGUF")]
    public async Task BadInputIsAClearErrorAndWritesNothing(string option, string value, string message)
    {
        using var tmp = new Fixture.TempDir();
        string[] args = ["export", "--model", Fixture.Path("gpt2-tiny-hf"), "--output", tmp["onnx"]];
        args = option == "--format" ? [.. args, option, value] : [.. args, "--format", "onnx", option, value];
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
    public async Task HelpNamesTheFormatAndPrecisions()
    {
        var (code, output, _) = await CliRunner.Run("export", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--format", output);
        Assert.Contains("int4", output);
        Assert.Contains("genai_config.json", output);
    }
}
