using System.Text.Json;
using GptSharp.Tests.Data;

namespace GptSharp.Tests.Cli.Commands;

public class DataStatsCommandTests
{
    static readonly string SampleDialogues = Path.Combine(ReadmeCommandsTests.RepoRoot, "samples", "dialogues", "train.jsonl");

    [Fact]
    public async Task SampleDialoguesWithTheGpt2Tokenizer()
    {
        using var dir = new Fixture.TempDir();
        var (code, stdout, stderr) = await CliRunner.Run("data", "stats", "--dialogues", SampleDialogues, "--tokenizer", "gpt2",
            "--max-prompt-reply", "150", "--output", dir["stats"]);
        Assert.True(code == 0, stderr);
        Assert.Contains("3,000 conversations in", stdout);
        Assert.Matches(@"conversations\s+3,000\s+21\s+47\s+109\s+119\s+155\s+178\s+57\.9", stdout);
        Assert.Matches(@"assistant replies\s+3,000", stdout);
        Assert.Matches(@"\n\s+128\s+105 of 3,000 \(3\.5 %\)\s+0 of 83,853 \(0\.0 %\)", stdout);
        Assert.Contains("data-driven block_size: 128", stdout);
        Assert.Contains("task-driven block_size: 192", stdout);
        Assert.Contains("recommended block_size: 192; paste into the training config: \"block_size\": 192", stdout);

        Assert.True(new FileInfo(dir["stats/length_histogram.png"]).Length > 1000);
        using var json = JsonDocument.Parse(File.ReadAllText(dir["stats/data_stats.json"]));
        var stats = json.RootElement.GetProperty("stats");
        Assert.Equal(119, stats.GetProperty("lengths").GetProperty("p95").GetInt32());
        Assert.Equal(5, stats.GetProperty("truncation").GetArrayLength());
        Assert.Equal(192, stats.GetProperty("recommendation").GetProperty("recommended").GetInt32());
        Assert.Equal(105, stats.GetProperty("truncation")[1].GetProperty("dialogue").GetProperty("conversations").GetInt32());
    }

    [Fact]
    public async Task TheModelsContextCapsTheCandidates()
    {
        using var dir = new Fixture.TempDir();
        string model = FinetuneEvalCommandTests.TinyModel(dir); // n_positions 64, its own tokenizer
        string file = dir.WriteText("d.jsonl", """{"input": "Where is order 123?", "output": "Order 123 has shipped."}""" + "\n");
        var (code, stdout, stderr) = await CliRunner.Run("data", "stats", "--dialogues", file, "--model", model, "--max-prompt-reply", "100",
            "--throughput", "--throughput-tokens", "128", "--device", "cpu", "--output", dir["stats"]);
        Assert.True(code == 0, stderr);
        Assert.Matches(@"\n\s+64\s+0 of 1", stdout);
        Assert.DoesNotMatch(@"\n\s+128\s", stdout);
        Assert.Contains("capped", stdout);
        Assert.Contains("\"block_size\": 64", stdout);
        Assert.Contains("training speed on the model (cpu, forward + backward, 128 tokens per step)", stdout);
        Assert.Matches(@"\n\s+64\s+2\s+[0-9.]+\s+[0-9,]+\s+1\.00×", stdout);
        using var json = JsonDocument.Parse(File.ReadAllText(dir["stats/data_stats.json"]));
        Assert.Equal(64, json.RootElement.GetProperty("throughput")[0].GetProperty("block_size").GetInt32());
    }

    [Fact]
    public async Task PreparedShardsAndTextFiles()
    {
        using var dir = new Fixture.TempDir();
        string text = dir.WriteText("a.txt", string.Concat(Enumerable.Range(0, 10).Select(i => $"Hello world number {i}.\n<|endoftext|>\n")));
        Assert.Equal(0, (await CliRunner.Run("data", "prepare", "--tokenizer", "gpt2", "--input", text, "--output", dir["data"], "--val-fraction", "0.2")).Code);
        foreach (var args in new[] { new[] { "--data", dir["data"] }, ["--text", text, "--tokenizer", "gpt2"] })
        {
            var (code, stdout, stderr) = await CliRunner.Run(["data", "stats", .. args]);
            Assert.True(code == 0, stderr);
            Assert.Contains("10 documents in", stdout);
            Assert.Matches(@"documents\s+10\s+7\s+7\s+7\s+7\s+7\s+7\s+7\.0", stdout); // "Hello world number 0.\n" is 6 tokens, + end-of-text
            Assert.Contains("\"block_size\": 64", stdout);
        }
    }

    [Fact]
    public async Task BadInputsAreErrorsAndWriteNothing()
    {
        using var dir = new Fixture.TempDir();
        string empty = dir.WriteText("empty.jsonl", "");
        string malformed = dir.WriteText("bad.jsonl", "{\"input\": \"a\", \"output\": \"b\"}\n{\"input\": \"a\"\n");
        string good = dir.WriteText("good.jsonl", "{\"input\": \"a\", \"output\": \"b\"}\n");
        string blank = dir.WriteText("blank.txt", "\n\n");
        string[] output = ["--output", dir["out"]];
        var cases = new (string[] Args, string Error)[]
        {
            (["--dialogues", dir["nope.jsonl"], "--tokenizer", "gpt2"], "nope.jsonl: --dialogues file not found"),
            (["--dialogues", empty, "--tokenizer", "gpt2"], "empty.jsonl:1: empty file"),
            (["--dialogues", malformed, "--tokenizer", "gpt2"], "bad.jsonl:2: invalid JSON"),
            (["--dialogues", good, "--tokenizer", dir["no-tokenizer"]], "no-tokenizer: --tokenizer is neither a tokenizer directory nor \"gpt2\""),
            (["--dialogues", good], "--dialogues and --text need a tokenizer"),
            (["--dialogues", good, "--text", blank, "--tokenizer", "gpt2"], "give exactly one of --dialogues FILE, --data DIR or --text FILE..."),
            ([], "give exactly one of"),
            (["--text", blank, "--tokenizer", "gpt2"], "blank.txt: no documents"),
            (["--text", dir["nope.txt"], "--tokenizer", "gpt2"], "nope.txt: --text file not found"),
            (["--data", dir["nodata"]], "nodata: --data directory not found"),
            (["--data", dir.Root], "meta.json: not found"),
            (["--dialogues", good, "--tokenizer", "gpt2", "--max-prompt-reply", "0"], "--max-prompt-reply must be at least 1"),
            (["--dialogues", good, "--model", dir["nomodel"]], "nomodel: --model directory not found"),
            (["--dialogues", good, "--tokenizer", "gpt2", "--throughput"], "--throughput needs --model DIR"),
        };
        foreach (var (args, error) in cases)
        {
            var (code, stdout, stderr) = await CliRunner.Run(["data", "stats", .. args, .. output]);
            Assert.True(code == 1, $"{string.Join(' ', args)}: exit {code}\n{stdout}");
            Assert.Contains(error, stderr);
            Assert.False(Directory.Exists(dir["out"]), string.Join(' ', args));
        }
    }
}
