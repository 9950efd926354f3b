using System.Text.Json.Nodes;
using GptSharp.Tokenization;
using GptSharp.Tests.IO;
using GptSharp.Tests.Tokenization;
using GptSharp.Cli.Commands;

namespace GptSharp.Tests.Cli.Commands;

public class TokenizeCommandTests
{
    static async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        int code = await CliApp.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Text_prints_ids_as_json_array()
    {
        var (code, output, _) = await Run("tokenize", "--text", "Hello, world!<|endoftext|>");
        Assert.Equal(0, code);
        Assert.Equal("[15496,11,995,0,27,91,437,1659,5239,91,29]", output.Trim());
        (code, output, _) = await Run("tokenize", "--text", "Hello, world!<|endoftext|>", "--allow-special");
        Assert.Equal("[15496,11,995,0,50256]", output.Trim());
    }

    [Fact]
    public async Task Jsonl_keeps_every_field_in_order_and_adds_ids()
    {
        using var dir = new Fixture.TempDir();
        File.WriteAllLines(dir["in.jsonl"],
        [
            """{"id": 7, "text": "Hello, world!", "meta": {"lang": "en", "tags": [1, 2.50]}}""",
            "",
            """{"text": "客服：您好<|endoftext|>", "score": null}""",
        ]);
        var (code, output, error) = await Run("tokenize", "--input", dir["in.jsonl"], "--output", dir["out.jsonl"]);
        Assert.True(code == 0, error);
        Assert.Contains("2 lines", output);
        var lines = File.ReadAllLines(dir["out.jsonl"]);
        Assert.Equal(2, lines.Length);
        Assert.Equal("""{"id":7,"text":"Hello, world!","meta":{"lang":"en","tags":[1,2.50]},"ids":[15496,11,995,0]}""", lines[0]);
        var second = JsonNode.Parse(lines[1])!.AsObject();
        Assert.Equal(["text", "score", "ids"], second.Select(p => p.Key));
        Assert.Equal("客服：您好<|endoftext|>", (string)second["text"]!);
        Assert.Equal(BpeTokenizer.Gpt2().Encode("客服：您好<|endoftext|>"), second["ids"]!.AsArray().Select(v => (int)v!));

        (code, _, _) = await Run("tokenize", "--input", dir["in.jsonl"], "--output", dir["out.jsonl"], "--allow-special");
        Assert.Equal(0, code);
        Assert.Equal(50256, (int)JsonNode.Parse(File.ReadAllLines(dir["out.jsonl"])[1])!["ids"]!.AsArray()[^1]!);
    }

    [Theory]
    [InlineData("not json at all", "not valid JSON")]
    [InlineData("""{"title": "no text"}""", "missing a string \"text\" field")]
    [InlineData("""{"text": 42}""", "missing a string \"text\" field")]
    [InlineData("[1, 2]", "expected a JSON object")]
    public async Task Bad_line_fails_naming_file_and_line_and_writes_nothing(string badLine, string expected)
    {
        using var dir = new Fixture.TempDir();
        File.WriteAllLines(dir["in.jsonl"], ["""{"text": "fine"}""", "", badLine, """{"text": "never reached"}"""]);
        var (code, _, error) = await Run("tokenize", "--input", dir["in.jsonl"], "--output", dir["out.jsonl"]);
        Assert.Equal(1, code);
        Assert.Contains($"{dir["in.jsonl"]}:3", error);
        Assert.Contains(expected, error);
        Assert.Equal(["in.jsonl"], Directory.GetFiles(dir.Root).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Tokenizer_train_writes_a_directory_that_tokenize_can_use()
    {
        using var dir = new Fixture.TempDir();
        File.WriteAllLines(dir["corpus.txt"], Gpt2Cases.Texts);
        string model = dir["tok"];
        var (code, output, error) = await Run("tokenizer", "train", "--input", dir["corpus.txt"], "--vocab-size", "400", "--output", model);
        Assert.True(code == 0, error);
        Assert.Contains("counting words", output);
        Assert.Contains("merging", output);
        Assert.Contains("vocabulary 400", output);
        Assert.Equal(["merges.txt", "tokenizer_config.json", "vocab.json"], Directory.GetFiles(model).Select(Path.GetFileName).Order());
        Assert.Equal(["corpus.txt", "tok"], Directory.GetFileSystemEntries(dir.Root).Select(Path.GetFileName).Order()); // no temp dir left

        (code, output, _) = await Run("tokenize", "--tokenizer", model, "--text", "<|user|>hi", "--allow-special");
        Assert.Equal(0, code);
        Assert.StartsWith("[397,", output.Trim()); // vocab 400: <|endoftext|> 395, <|system|> 396, <|user|> 397
    }

    [Fact]
    public async Task Tokenizer_train_replaces_a_non_empty_output_only_with_overwrite()
    {
        using var dir = new Fixture.TempDir();
        File.WriteAllLines(dir["corpus.txt"], Gpt2Cases.Texts);
        Directory.CreateDirectory(dir["tok"]);
        File.WriteAllText(dir["tok/notes.txt"], "mine");
        var (code, output, error) = await Run("tokenizer", "train", "--input", dir["corpus.txt"], "--vocab-size", "300", "--output", dir["tok"]);
        Assert.Equal(1, code);
        Assert.Contains("already exists and is not empty; pass --overwrite", error);
        Assert.DoesNotContain("counting words", output); // refused before training
        Assert.Equal(["notes.txt"], Directory.GetFiles(dir["tok"]).Select(Path.GetFileName));

        (code, _, error) = await Run("tokenizer", "train", "--input", dir["corpus.txt"], "--vocab-size", "300", "--output", dir["tok"], "--overwrite");
        Assert.True(code == 0, error);
        Assert.Equal(["merges.txt", "tokenizer_config.json", "vocab.json"], Directory.GetFiles(dir["tok"]).Select(Path.GetFileName).Order());

        // Never the folder that holds the input.
        (code, _, error) = await Run("tokenizer", "train", "--input", dir["corpus.txt"], "--vocab-size", "300", "--output", dir.Root, "--overwrite");
        Assert.Equal(1, code);
        Assert.Contains("holds an input of this command", error);
        Assert.True(File.Exists(dir["corpus.txt"]));
    }

    [Fact]
    public async Task An_unwritable_output_is_named_before_any_work()
    {
        using var dir = new Fixture.TempDir();
        File.WriteAllLines(dir["in.jsonl"], ["""{"text": "fine"}"""]);
        string target = Path.Combine(GptSharp.Tests.IO.Unwritable.Directory(dir), "out.jsonl");
        var (code, _, error) = await Run("tokenize", "--input", dir["in.jsonl"], "--output", target);
        Assert.Equal(1, code);
        Assert.StartsWith($"error: {target}: cannot write there", error);

        File.WriteAllLines(dir["corpus.txt"], Gpt2Cases.Texts);
        string tok = Path.Combine(GptSharp.Tests.IO.Unwritable.UnderAFile(dir), "tok");
        (code, string output, error) = await Run("tokenizer", "train", "--input", dir["corpus.txt"], "--vocab-size", "300", "--output", tok);
        Assert.Equal(1, code);
        Assert.StartsWith($"error: {tok}: cannot write there", error);
        Assert.DoesNotContain("counting words", output);
    }

    [Fact]
    public async Task Usage_errors_exit_1()
    {
        Assert.Equal(1, (await Run("tokenize")).Code);
        Assert.Equal(1, (await Run("tokenize", "--text", "a", "--tokenizer", "/no/such/dir")).Code);
        var (code, _, error) = await Run("tokenizer", "train", "--input", "/no/such/file.txt", "--output", "/tmp/never");
        Assert.Equal(1, code);
        Assert.Contains("not found", error);
    }
}
