using System.Text.Json.Nodes;
using GptSharp.Tests.Data;
using GptSharp.Tests.Training;

namespace GptSharp.Tests.Cli.Commands;

/// <summary>`gptsharp find-batch-size` end to end on tiny jobs, and its refusals: exit 1, the option named, nothing written.</summary>
[Collection(nameof(GlobalTorchRng))]
public class FindBatchSizeCommandTests(TinyCorpus corpus) : IClassFixture<TinyCorpus>
{
    static readonly string[] Pairs =
    [
        """{"input": "Where is order 123?", "output": "Order 123 has shipped."}""",
        """{"input": "Where is order 456?", "output": "Order 456 has shipped."}""",
        """{"input": "Can I return my mug?", "output": "Yes, within 30 days."}""",
    ];

    string PretrainConfig(string name) =>
        corpus.Dir.WriteText(name + ".json", (corpus.Options(name + "-run") with { GradientAccumulationSteps = 2 }).ToJson());

    static JsonNode AssertWrote(string dir)
    {
        var png = File.ReadAllBytes(Path.Combine(dir, "find_batch_size.png"));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "find_batch_size.json")))!;
        Assert.NotEmpty(json["probes"]!.AsArray());
        Assert.All(json["probes"]!.AsArray(), p => Assert.True((bool)p!["fits"]! == ((double?)p["tokens_per_second"] is > 0)));
        Assert.DoesNotContain(Directory.GetFiles(dir), f => Path.GetFileName(f).StartsWith('.')); // no temporaries left
        return json;
    }

    [Fact]
    public async Task PretrainingConfigPrintsTheTableAndTheRecommendationAndWritesThePlotAndJson()
    {
        string output = corpus.Dir["bs-pre"];
        var (code, stdout, stderr) = await CliRunner.Run("find-batch-size", "--config", PretrainConfig("pre"), "--memory-budget", "8GiB",
            "--max-batch", "8", "--steps", "2", "--output", output);
        Assert.True(code == 0, stderr + stdout);
        foreach (var s in new[] { "peak memory", "tokens/s", "largest batch that fits: 8", "4 × gradient_accumulation_steps 2 = 8 sequences",
                     "\"per_device_train_batch_size\": 8, \"gradient_accumulation_steps\": 1" })
            Assert.Contains(s, stdout);
        var json = AssertWrote(output);
        Assert.Equal(8, (int)json["largest_fit"]!);
        Assert.Equal([1, 2, 4, 8], json["probes"]!.AsArray().Select(p => (int)p!["batch_size"]!));
        Assert.Equal(8L << 30, (long)json["memory_budget_bytes"]!);
        Assert.False(Directory.Exists(corpus.Dir["pre-run"]), "the job's output_dir is not touched");
    }

    [Fact]
    public async Task FineTuningJobWritesThePlotAndJsonAndLeavesTheModelAlone()
    {
        using var tmp = new Fixture.TempDir();
        string model = FinetuneEvalCommandTests.TinyModel(tmp);
        File.WriteAllText(tmp["pairs.jsonl"], string.Join("\n", Pairs));
        var before = File.ReadAllBytes(Path.Combine(model, "model.safetensors"));
        var (code, stdout, stderr) = await CliRunner.Run("find-batch-size", "--model", model, "--data", tmp["pairs.jsonl"], "--max-batch", "8",
            "--steps", "1", "--memory-budget", "8GiB", "--output", tmp["bs"], "--set", "per_device_train_batch_size=2", "val_fraction=0", "device=cpu");
        Assert.True(code == 0, stderr + stdout);
        Assert.Equal(8, (int)AssertWrote(tmp["bs"])["largest_fit"]!); // more rows than conversations: the longest, repeated
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(model, "model.safetensors")));
    }

    public static TheoryData<string[], string> BadInputs => new()
    {
        { ["--memory-budget", "lots"], "--memory-budget" },
        { ["--memory-budget", "4XB"], "--memory-budget" },
        { ["--memory-budget", "0"], "--memory-budget" },
        { ["--max-batch", "0"], "--max-batch" },
        { ["--steps", "0"], "--steps" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task BadInputExitsOneNamingTheOptionAndWritesNothing(string[] args, string named)
    {
        string output = corpus.Dir["bs-bad-" + Guid.NewGuid().ToString("N")];
        var (code, stdout, stderr) = await CliRunner.Run(["find-batch-size", "--config", PretrainConfig("bad"), "--output", output, .. args]);
        Assert.Equal(1, code);
        Assert.Contains(named, stderr + stdout);
        Assert.False(Path.Exists(output));
    }

    [Fact]
    public async Task ABudgetBelowOneSampleExitsOneNamingTheOptionAndWritesNothing()
    {
        // 1 byte: the first step's optimizer state alone grows the process by pages.
        string output = corpus.Dir["bs-tight"];
        var (code, stdout, stderr) = await CliRunner.Run("find-batch-size", "--config", PretrainConfig("tight"), "--memory-budget", "1",
            "--steps", "2", "--output", output);
        Assert.Equal(1, code);
        Assert.Contains("batch of 1 does not fit", stderr + stdout);
        Assert.Contains("--memory-budget", stderr + stdout);
        Assert.False(Path.Exists(output));
    }

    [Fact]
    public async Task AJobIsRequired()
    {
        var (code, stdout, stderr) = await CliRunner.Run("find-batch-size", "--output", corpus.Dir["bs-none"]);
        Assert.Equal(1, code);
        Assert.Contains("--config", stderr + stdout);
        (code, stdout, stderr) = await CliRunner.Run("find-batch-size", "--model", corpus.Dir["nowhere"], "--output", corpus.Dir["bs-none"]);
        Assert.Equal(1, code);
        Assert.Contains("--data", stderr + stdout);
        Assert.False(Path.Exists(corpus.Dir["bs-none"]));
    }
}
