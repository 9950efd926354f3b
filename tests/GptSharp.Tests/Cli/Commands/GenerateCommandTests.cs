using System.Text.Json;
using GptSharp.Tests.Cli;
using GptSharp.Tokenization;

namespace GptSharp.Tests.Cli.Commands;

public class GenerateCommandTests
{
    /// <summary>The tiny reference model with GPT-2's tokenizer files beside it.</summary>
    static Fixture.TempDir ModelDir()
    {
        var tmp = new Fixture.TempDir();
        foreach (var f in new[] { "config.json", "model.safetensors" })
            File.Copy(Fixture.Path("gpt2-tiny-hf", f), tmp[f]);
        BpeTokenizer.Gpt2().Save(tmp.Root);
        return tmp;
    }

    [Fact]
    public void TheOnnxEngineSaysWhyWhenItCannotWriteItsGraphToTheTemporaryFolderAndLeavesNothingThere()
    {
        using var dir = ModelDir();
        using var tmp = new Fixture.TempDir();
        File.WriteAllText(tmp["file"], "a file where the temporary folder should be");
        using var cli = new CliProcess(new Dictionary<string, string?> { ["TMPDIR"] = tmp["file"] + "/sub" },
            "generate", "--model", dir.Root, "--engine", "onnx", "--prompt", "Hello", "--max-new-tokens", "2");
        Assert.Equal(1, cli.WaitForExit(TimeSpan.FromSeconds(60)));
        Assert.Contains("the onnx engine writes the model's graph", cli.Err);
        Assert.Contains("set TMPDIR", cli.Err);
        Assert.Contains("--engine torch", cli.Err);
        Assert.DoesNotContain("   at ", cli.Err); // no stack trace
        Assert.Equal(["file"], Directory.GetFileSystemEntries(tmp.Root).Select(Path.GetFileName));
    }

    [Fact]
    public async Task GreedyPrintsThePromptAndTheReferenceContinuation()
    {
        using var dir = ModelDir();
        var greedy = JsonDocument.Parse(File.ReadAllText(Fixture.Path("gpt2-tiny-hf", "expected.json"))).RootElement.GetProperty("greedy");
        var expectedIds = greedy.GetProperty("generated_ids").EnumerateArray().Select(e => e.GetInt32());

        var (code, output, error) = await CliRunner.Run("generate", "--model", dir.Root, "--prompt", "Hello, my dog is cute", "--greedy", "--max-new-tokens", "20");
        Assert.True(code == 0, error);
        Assert.Equal("Hello, my dog is cute" + BpeTokenizer.Gpt2().Decode(expectedIds) + Environment.NewLine, output);
    }

    [Fact]
    public async Task TheOnnxEngineGivesTheReferenceContinuationAndBadEngineChoicesFailClearly()
    {
        using var dir = ModelDir();
        var greedy = JsonDocument.Parse(File.ReadAllText(Fixture.Path("gpt2-tiny-hf", "expected.json"))).RootElement.GetProperty("greedy");
        var expectedIds = greedy.GetProperty("generated_ids").EnumerateArray().Select(e => e.GetInt32());
        string[] args = ["generate", "--model", dir.Root, "--prompt", "Hello, my dog is cute", "--greedy", "--max-new-tokens", "20"];

        var (code, output, error) = await CliRunner.Run([.. args, "--engine", "onnx"]);
        Assert.True(code == 0, error);
        Assert.Equal("Hello, my dog is cute" + BpeTokenizer.Gpt2().Decode(expectedIds) + Environment.NewLine, output);
        (code, output, error) = await CliRunner.Run([.. args, "--precision", "int4"]); // int4 picks the onnx engine by itself
        Assert.True(code == 0, error);
        Assert.StartsWith("Hello, my dog is cute", output);

        (code, _, error) = await CliRunner.Run([.. args, "--engine", "onnx", "--stats"]);
        Assert.True(code == 0, error);
        Assert.Matches(@"prompt 6 tokens, first token after \d+ ms; 20 new tokens, decoding [\d.]+ tokens/s \(onnxruntime engine\)", error);

        (code, output, error) = await CliRunner.Run([.. args, "--engine", "onnx", "--precision", "bf16"]);
        Assert.True(code == 0, error);
        Assert.StartsWith("Hello, my dog is cute", output);
        (code, _, error) = await CliRunner.Run([.. args, "--engine", "torch", "--precision", "int4"]);
        Assert.Equal(1, code);
        Assert.Contains("int4 runs on the onnx engine only", error);
        (code, _, error) = await CliRunner.Run([.. args, "--engine", "tensorrt"]);
        Assert.Equal(1, code);
        Assert.Contains("unknown engine 'tensorrt' (expected auto, torch or onnx)", error);
    }

    [Fact]
    public async Task StreamingStopsExactlyBeforeAStopSequenceSpanningTokens()
    {
        using var dir = ModelDir();
        const string prompt = "Hello, my dog is cute";
        var (code, full, error) = await CliRunner.Run("generate", "--model", dir.Root, "--prompt", prompt, "--greedy", "--max-new-tokens", "20");
        Assert.True(code == 0, error);
        string continuation = full[prompt.Length..].TrimEnd('\n', '\r');
        var tokenizer = BpeTokenizer.Gpt2();
        // A stop sequence made of the end of one token and the start of the next, a few tokens in.
        var ids = tokenizer.Encode(continuation);
        int before = tokenizer.Decode(ids[..3]).Length;
        string stop = continuation.Substring(before - 1, Math.Min(4, continuation.Length - before + 1));
        Assert.True(stop.Length >= 2, $"continuation too short: '{continuation}'");
        int at = continuation.IndexOf(stop, StringComparison.Ordinal);

        (code, string output, error) = await CliRunner.Run("generate", "--model", dir.Root, "--prompt", prompt, "--greedy", "--max-new-tokens", "20", "--stop", stop);
        Assert.True(code == 0, error);
        Assert.Equal(prompt + continuation[..at] + Environment.NewLine, output);
    }

    [Fact]
    public async Task SameSeedSameText()
    {
        using var dir = ModelDir();
        string[] args = ["generate", "--model", dir.Root, "--prompt", "Once upon a time", "--max-new-tokens", "8", "--top-k", "40", "--top-p", "0.9", "--temperature", "0.8"];
        var a = await CliRunner.Run([.. args, "--seed", "5"]);
        var b = await CliRunner.Run([.. args, "--seed", "5"]);
        Assert.True(a.Code == 0, a.Err);
        Assert.StartsWith("Once upon a time", a.Out);
        Assert.True(a.Out.Length > "Once upon a time\n".Length);
        Assert.Equal(a.Out, b.Out);
    }

    [Theory]
    [InlineData("--top-p", "1.5", "top_p")]
    [InlineData("--temperature", "-1", "temperature")]
    [InlineData("--max-new-tokens", "0", "max_new_tokens")]
    [InlineData("--top-k", "-3", "top_k")]
    public async Task InvalidOptionsFailBeforeLoadingTheModel(string option, string value, string name)
    {
        var (code, _, error) = await CliRunner.Run("generate", "--model", "/nonexistent/model", "--prompt", "hi", option, value);
        Assert.Equal(1, code);
        Assert.StartsWith($"error: invalid generation option: {name}", error);
    }

    [Fact]
    public async Task PromptLongerThanTheContextPrintsOnlyTheError()
    {
        using var dir = ModelDir();
        var (code, output, error) = await CliRunner.Run("generate", "--model", dir.Root, "--prompt", string.Concat(Enumerable.Repeat(" word", 129)));
        Assert.Equal(1, code);
        Assert.Equal("", output);
        Assert.Contains("129 tokens", error);
        Assert.Contains("context holds only 128", error);
    }

    [Fact]
    public async Task PromptOverflowTrimGeneratesFromTheEndOfALongPrompt()
    {
        using var dir = ModelDir();
        string prompt = string.Concat(Enumerable.Repeat(" word", 129));
        var (code, output, error) = await CliRunner.Run("generate", "--model", dir.Root, "--prompt", prompt, "--greedy", "--max-new-tokens", "8", "--prompt-overflow", "trim");
        Assert.True(code == 0, error);
        Assert.Contains("the prompt has 129 tokens; generating from its last 120", error);
        Assert.StartsWith(prompt, output);
        Assert.True(output.Length > prompt.Length + Environment.NewLine.Length);

        (code, _, error) = await CliRunner.Run("generate", "--model", dir.Root, "--prompt", prompt);
        Assert.Equal(1, code);
        Assert.Contains("--prompt-overflow trim", error);
        (code, _, _) = await CliRunner.Run("generate", "--model", dir.Root, "--prompt", "hi", "--prompt-overflow", "chop");
        Assert.NotEqual(0, code);
    }

    [Fact]
    public async Task NumBeamsTurnsSamplingOffButRefusesSamplingOptions()
    {
        using var dir = ModelDir();
        var (code, output, error) = await CliRunner.Run("generate", "--model", dir.Root, "--prompt", "Hello", "--num-beams", "2", "--max-new-tokens", "4");
        Assert.True(code == 0, error);
        Assert.StartsWith("Hello", output);
        (code, _, error) = await CliRunner.Run("generate", "--model", dir.Root, "--prompt", "Hello", "--num-beams", "2", "--temperature", "0.8");
        Assert.Equal(1, code);
        Assert.StartsWith("error: invalid generation option: num_beams", error);
    }

    [Fact]
    public async Task MissingModelIsAClearError()
    {
        using var tmp = new Fixture.TempDir();
        var (code, _, error) = await CliRunner.Run("generate", "--model", tmp["none"], "--prompt", "hi");
        Assert.Equal(1, code);
        Assert.StartsWith("error:", error);
    }
}
