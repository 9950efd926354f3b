using GptSharp.Tests.Cli;
using GptSharp.Tokenization;
using GptSharp.Tests.IO;

using GptSharp.Tests.Data;
using GptSharp.Data.Shards;

namespace GptSharp.Tests.Cli.Commands;

public class DataCommandTests
{
    [Fact]
    public async Task PreparesWithTheBuiltInGpt2Tokenizer()
    {
        using var dir = new Fixture.TempDir();
        string a = dir.WriteText("a.txt", string.Concat(Enumerable.Range(0, 10).Select(i => $"Hello world number {i}.\n<|endoftext|>\n")));
        string b = dir.WriteText("b.txt", "Second file.\n");

        var (code, stdout, stderr) = await CliRunner.Run("data", "prepare", "--tokenizer", "gpt2", "--input", a, b, "--output", dir["data"], "--val-fraction", "0.2");
        Assert.True(code == 0, stderr);
        Assert.Contains($"{a}: done", stdout);
        Assert.Contains($"wrote {dir["data"]}: train", stdout);

        var meta = DatasetMeta.Read(dir["data"]);
        Assert.Equal("gpt2", meta.Tokenizer!.Path);
        Assert.Equal(2, meta.Val.Documents);
        using var val = TokenDataset.Open(dir["data"], "val");
        var ids = new long[val.Count];
        val.CopyTo(0, ids);
        Assert.Equal("<|endoftext|>Hello world number 4.\n<|endoftext|>Hello world number 9.\n", BpeTokenizer.Gpt2().Decode(ids.Select(i => (int)i)));
    }

    [Fact]
    public async Task BadInputsAreErrors()
    {
        using var dir = new Fixture.TempDir();
        var (code, _, stderr) = await CliRunner.Run("data", "prepare", "--tokenizer", "gpt2", "--input", dir["nope.txt"], "--output", dir["data"]);
        Assert.Equal(1, code);
        Assert.Contains("nope.txt: input file not found", stderr);

        string a = dir.WriteText("a.txt", "text\n");
        (code, _, stderr) = await CliRunner.Run("data", "prepare", "--tokenizer", "gpt2", "--input", a, "--output", dir["data"], "--val-fraction", "0.9");
        Assert.Equal(1, code);
        Assert.Contains("val_fraction must be in [0, 0.5]", stderr);

        (code, _, stderr) = await CliRunner.Run("data", "prepare", "--tokenizer", dir["no-tokenizer"], "--input", a, "--output", dir["data"]);
        Assert.Equal(1, code);
        Assert.Contains("no-tokenizer", stderr);
    }

    [Fact]
    public async Task AnExistingOutputNeedsOverwriteAndNeverOneHoldingTheInput()
    {
        using var dir = new Fixture.TempDir();
        string a = dir.WriteText("a.txt", string.Concat(Enumerable.Range(0, 10).Select(i => $"Hello {i}.\n<|endoftext|>\n")));
        Directory.CreateDirectory(dir["data"]);
        File.WriteAllText(dir["data/notes.txt"], "mine");
        var (code, _, stderr) = await CliRunner.Run("data", "prepare", "--tokenizer", "gpt2", "--input", a, "--output", dir["data"]);
        Assert.Equal(1, code);
        Assert.Contains($"{dir["data"]}: output directory already exists and is not empty; pass --overwrite to replace it", stderr);
        Assert.True(File.Exists(dir["data/notes.txt"]));

        (code, _, stderr) = await CliRunner.Run("data", "prepare", "--tokenizer", "gpt2", "--input", a, "--output", dir.Root, "--overwrite");
        Assert.Equal(1, code);
        Assert.Contains($"holds an input of this command ({a})", stderr);
        Assert.True(File.Exists(a));
        Assert.True(File.Exists(dir["data/notes.txt"]));
    }

    [Fact]
    public async Task AnUnwritableOutputIsNamedBeforeAnyWork()
    {
        using var dir = new Fixture.TempDir();
        string a = dir.WriteText("a.txt", "Hello.\n");
        string target = Path.Combine(GptSharp.Tests.IO.Unwritable.Directory(dir), "data");
        var (code, stdout, stderr) = await CliRunner.Run("data", "prepare", "--tokenizer", "gpt2", "--input", a, "--output", target, "--val-fraction", "0");
        Assert.Equal(1, code);
        Assert.StartsWith($"error: {target}: cannot write there", stderr);
        Assert.DoesNotContain("done", stdout);
    }
}
