using System.Text.Json.Nodes;
using GptSharp.Tests.Data;
using GptSharp.Tests.Training;

namespace GptSharp.Tests.Cli.Commands;

/// <summary>`gptsharp lr-find` end to end on tiny jobs, and its refusals: exit 1, the option named, nothing written.</summary>
[Collection(nameof(GlobalTorchRng))]
public class LrFindCommandTests(TinyCorpus corpus) : IClassFixture<TinyCorpus>
{
    static readonly string[] Pairs =
    [
        """{"input": "Where is order 123?", "output": "Order 123 has shipped."}""",
        """{"input": "Where is order 456?", "output": "Order 456 has shipped."}""",
        """{"input": "Can I return my mug?", "output": "Yes, within 30 days."}""",
        """{"input": "Can I return my cup?", "output": "Yes, within 30 days."}""",
    ];

    string PretrainConfig(string name) =>
        corpus.Dir.WriteText(name + ".json", (corpus.Options(name + "-run") with { WarmupSteps = 0 }).ToJson());

    static void AssertWrote(string dir)
    {
        var png = File.ReadAllBytes(Path.Combine(dir, "lr_find.png"));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "lr_find.json")))!;
        Assert.Equal(["valley", "steepest", "minimum/10"], json["suggestions"]!.AsArray().Select(s => (string)s!["method"]!));
        Assert.Equal((double)json["suggestions"]![0]!["learning_rate"]!, (double)json["recommended"]!);
        Assert.NotEmpty(json["points"]!.AsArray());
        Assert.DoesNotContain(Directory.GetFiles(dir), f => Path.GetFileName(f).StartsWith('.')); // no temporaries left
    }

    [Fact]
    public async Task PretrainingConfigPrintsTheSuggestionsAndWritesThePlotAndJson()
    {
        string config = PretrainConfig("pre");
        string output = corpus.Dir["lr-pre"];
        var (code, stdout, stderr) = await CliRunner.Run("lr-find", "--config", config, "--start", "1e-5", "--steps", "30", "--output", output);
        Assert.True(code == 0, stderr + stdout);
        foreach (var s in new[] { "valley", "steepest", "minimum/10", "<- recommended", "\"learning_rate\": " }) Assert.Contains(s, stdout);
        AssertWrote(output);
        Assert.False(Directory.Exists(corpus.Dir["pre-run"]), "the job's output_dir is not touched");
    }

    [Fact]
    public async Task FineTuningJobWritesThePlotAndJson()
    {
        using var tmp = new Fixture.TempDir();
        string model = FinetuneEvalCommandTests.TinyModel(tmp);
        File.WriteAllText(tmp["pairs.jsonl"], string.Join("\n", Pairs));
        var before = File.ReadAllBytes(Path.Combine(model, "model.safetensors"));
        var (code, stdout, stderr) = await CliRunner.Run("lr-find", "--model", model, "--data", tmp["pairs.jsonl"], "--steps", "12",
            "--output", tmp["lr"], "--set", "per_device_train_batch_size=2", "val_fraction=0", "device=cpu");
        Assert.True(code == 0, stderr + stdout);
        AssertWrote(tmp["lr"]);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(model, "model.safetensors")));
    }

    public static TheoryData<string[], string> BadInputs => new()
    {
        { ["--start", "1e-2", "--end", "1e-3"], "--start" },
        { ["--start", "1", "--end", "1"], "--start" },
        { ["--steps", "5"], "--steps" },
        { ["--set", "per_device_train_batch_size=10000"], "per_device_train_batch_size" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task BadInputExitsOneNamingTheOptionAndWritesNothing(string[] args, string named)
    {
        string output = corpus.Dir["lr-bad-" + Guid.NewGuid().ToString("N")];
        var (code, stdout, stderr) = await CliRunner.Run(["lr-find", "--config", PretrainConfig("bad"), "--output", output, .. args]);
        Assert.Equal(1, code);
        Assert.Contains(named, stderr + stdout);
        Assert.False(Path.Exists(output));
    }

    [Fact]
    public async Task FewerConversationsThanOneBatchAreRefused()
    {
        using var tmp = new Fixture.TempDir();
        string model = FinetuneEvalCommandTests.TinyModel(tmp);
        File.WriteAllText(tmp["pairs.jsonl"], string.Join("\n", Pairs));
        var (code, stdout, stderr) = await CliRunner.Run("lr-find", "--model", model, "--data", tmp["pairs.jsonl"], "--output", tmp["lr"],
            "--set", "per_device_train_batch_size=8", "device=cpu");
        Assert.Equal(1, code);
        Assert.Contains("per_device_train_batch_size", stderr + stdout);
        Assert.False(Path.Exists(tmp["lr"]));
    }

    [Fact]
    public async Task AJobIsRequired()
    {
        var (code, stdout, stderr) = await CliRunner.Run("lr-find", "--output", corpus.Dir["lr-none"]);
        Assert.Equal(1, code);
        Assert.Contains("--config", stderr + stdout);
        (code, stdout, stderr) = await CliRunner.Run("lr-find", "--model", corpus.Dir["nowhere"], "--output", corpus.Dir["lr-none"]);
        Assert.Equal(1, code);
        Assert.Contains("--data", stderr + stdout);
        Assert.False(Path.Exists(corpus.Dir["lr-none"]));
    }
}
