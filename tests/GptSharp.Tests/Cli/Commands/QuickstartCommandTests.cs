using GptSharp.Tests.Training;
namespace GptSharp.Tests.Cli.Commands;

[Collection(nameof(GptSharp.Tests.Training.GlobalTorchRng))]
public class QuickstartCommandTests
{
    [Fact]
    public async Task RunsEndToEndOnTheBundledCorpus()
    {
        using var tmp = new Fixture.TempDir();
        var (code, output, err) = await CliRunner.Run("quickstart", "--output", tmp["run"], "--max-steps", "30", "--finetune-steps", "10", "--device", "cpu");
        Assert.True(code == 0, err + output);
        foreach (var step in new[] { "1/5", "2/5", "3/5", "4/5", "5/5", "user:  Hey, I got a broken winter scarf", "held-out questions: exact match", "done in" })
            Assert.Contains(step, output);
        foreach (var f in new[] { "tokenizer/vocab.json", "data/meta.json", "model/final/model.safetensors", "model/final/vocab.json", "model/metrics.jsonl",
                     "chat/final/generation_config.json", "chat/final/tokenizer_config.json" })
            Assert.True(File.Exists(Path.Combine(tmp["run"], f)), f);
    }

    [Fact]
    public async Task RunsFromAnyDirectoryAndItsHintWorksFromThere()
    {
        // Another current directory than the tool's: the bundled samples are still found, and the closing hint's paths
        // resolve from where the user is. A small relative --input keeps it quick (the tokenizer is trained on it).
        using var tmp = new Fixture.TempDir();
        string support = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "samples", "text", "support.txt"));
        File.WriteAllText(tmp["corpus.txt"], support[..support.IndexOf("\n\n", 20_000, StringComparison.Ordinal)]);
        var (code, output, err) = await CliProcess.Run(tmp.Root, ["quickstart", "--max-steps", "1", "--finetune-steps", "0", "--device", "cpu", "--input", "corpus.txt"]);
        Assert.True(code == 0, err + output);
        var hint = System.Text.RegularExpressions.Regex.Match(output, @"Try: gptsharp eval --model (\S+) --data (\S+)");
        Assert.True(hint.Success, output);
        Assert.True(File.Exists(Path.Combine(tmp.Root, hint.Groups[1].Value, "model.safetensors")), hint.Groups[1].Value);
        Assert.True(File.Exists(Path.Combine(tmp.Root, hint.Groups[2].Value)), hint.Groups[2].Value);
        Assert.True(File.Exists(tmp["quickstart-run/model/final/model.safetensors"]));
    }

    [Fact]
    public async Task AMissingInputIsAClearError()
    {
        using var tmp = new Fixture.TempDir();
        var (code, _, err) = await CliRunner.Run("quickstart", "--output", tmp["run"], "--input", tmp["nope.txt"]);
        Assert.Equal(1, code);
        Assert.Contains("nope.txt", err);
    }

    [Fact]
    public async Task AnOutputFolderWithOtherFilesNeedsOverwrite()
    {
        using var tmp = new Fixture.TempDir();
        File.WriteAllText(tmp["notes.txt"], "mine");
        var (code, output, err) = await CliRunner.Run("quickstart", "--output", tmp.Root, "--max-steps", "2", "--finetune-steps", "0");
        Assert.Equal(1, code);
        Assert.Contains("holds other files than an earlier quickstart's; pass --overwrite", err);
        Assert.DoesNotContain("1/5", output); // refused before any work
        Assert.Equal(["notes.txt"], Directory.GetFileSystemEntries(tmp.Root).Select(Path.GetFileName));
    }
}
