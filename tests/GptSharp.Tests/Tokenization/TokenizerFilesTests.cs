using GptSharp.Tokenization;

namespace GptSharp.Tests.Tokenization;

public class TokenizerFilesTests
{
    [Fact]
    public void Gpt2_saves_hugging_face_files_and_loads_back_to_identical_encodings()
    {
        using var dir = new Fixture.TempDir();
        var gpt2 = BpeTokenizer.Gpt2();
        gpt2.Save(dir.Root);

        Assert.Equal(["merges.txt", "tokenizer_config.json", "vocab.json"], Directory.GetFiles(dir.Root).Select(Path.GetFileName).Order());
        var merges = File.ReadAllLines(dir["merges.txt"]);
        Assert.Equal("#version: 0.2", merges[0]);
        Assert.Equal(50001, merges.Length);
        Assert.Equal("Ġ t", merges[1]); // OpenAI's first rule
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(dir["tokenizer_config.json"]))!;
        Assert.Equal("GPT2Tokenizer", (string)config["tokenizer_class"]!);
        Assert.Equal("<|endoftext|>", (string)config["eos_token"]!);
        Assert.Equal("<|assistant|>", (string)config["added_tokens_decoder"]!["50259"]!["content"]!);

        var loaded = BpeTokenizer.Load(dir.Root);
        Assert.Equal(gpt2.VocabSize, loaded.VocabSize);
        Assert.Equal(gpt2.EndOfTextId, loaded.EndOfTextId);
        Assert.Equal(gpt2.SpecialTokenNames, loaded.SpecialTokenNames);
        foreach (var c in Gpt2Cases.All.Value)
        {
            Assert.Equal(c.Ids, loaded.Encode(c.Text));
            Assert.Equal(gpt2.EncodeWithSpecialTokens(c.Text), loaded.EncodeWithSpecialTokens(c.Text));
        }
        Assert.Empty(Directory.GetFiles(dir.Root, "*.tmp-*"));
    }

    /// <summary>A tiny valid tokenizer directory: the 256 byte tokens, two merges, &lt;|endoftext|&gt;.</summary>
    static Fixture.TempDir TinyTokenizer()
    {
        var dir = new Fixture.TempDir();
        var trained = new BpeTrainer(new BpeTrainerOptions { VocabSize = 263 }).Train(["hello hello hello"]);
        trained.Save(dir.Root);
        return dir;
    }

    static string LoadError(Fixture.TempDir dir) => Assert.Throws<GptSharpException>(() => BpeTokenizer.Load(dir.Root)).Message;

    [Fact]
    public void Tiny_tokenizer_loads()
    {
        using var dir = TinyTokenizer();
        var t = BpeTokenizer.Load(dir.Root);
        Assert.Equal(263, t.VocabSize);
        Assert.Equal(2, t.Merges.Count);
    }

    [Fact]
    public void Missing_files_are_named()
    {
        using var dir = TinyTokenizer();
        File.Delete(dir["merges.txt"]);
        Assert.Contains("merges.txt: file not found", LoadError(dir));
        Assert.Contains("tokenizer directory not found", Assert.Throws<GptSharpException>(() => BpeTokenizer.Load(dir["nope"])).Message);
    }

    [Fact]
    public void Bad_vocab_json_is_reported_with_file()
    {
        using var dir = TinyTokenizer();
        File.WriteAllText(dir["vocab.json"], "{\"a\": 1,");
        var message = LoadError(dir);
        Assert.Contains("vocab.json", message);
        Assert.Contains("not valid JSON", message);

        File.WriteAllText(dir["vocab.json"], "{\"a\": \"one\"}");
        Assert.Contains("non-negative integer id", LoadError(dir));
    }

    [Fact]
    public void Malformed_merges_line_is_reported_with_its_number()
    {
        using var dir = TinyTokenizer();
        var lines = File.ReadAllLines(dir["merges.txt"]).ToList();
        lines.Insert(2, "onlyone");
        File.WriteAllLines(dir["merges.txt"], lines);
        var message = LoadError(dir);
        Assert.Contains("merges.txt: line 3 is malformed", message);
    }

    [Fact]
    public void Merge_whose_result_is_not_in_vocab_is_reported()
    {
        using var dir = TinyTokenizer();
        File.AppendAllText(dir["merges.txt"], "x y\n");
        var message = LoadError(dir);
        Assert.Contains("merges.txt: line 4", message);
        Assert.Contains("\"xy\" is not in vocab.json", message);

        File.WriteAllText(dir["merges.txt"], "#version: 0.2\ne l\ne l\n");
        Assert.Contains("repeats the merge on line 2", LoadError(dir));
    }

    [Fact]
    public void Bad_tokenizer_config_is_reported()
    {
        using var dir = TinyTokenizer();
        File.WriteAllText(dir["tokenizer_config.json"], "[1, 2");
        Assert.Contains("tokenizer_config.json: not valid JSON", LoadError(dir));
        File.WriteAllText(dir["tokenizer_config.json"], """{"added_tokens_decoder": {"0": {"content": "<|user|>"}}}""");
        Assert.Contains("share id 0", LoadError(dir));
    }
}
