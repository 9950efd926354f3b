using System.Text.Json.Nodes;
using GptSharp.Tests.Evaluation;

namespace GptSharp.Tests.Cli.Commands;

/// <summary>`compare` runs each model in a child process of the built tool, as a user's would.</summary>
public class CompareCommandTests
{
    static readonly string[] Quick = ["--max-new-tokens", "4", "--decode-tokens", "6", "--repetitions", "1"];

    [Fact]
    public async Task ComparesAModelWithItsInt8VersionInATableJsonAndChart()
    {
        using var tmp = new Fixture.TempDir();
        string model = ComparisonModels.Create(tmp["m"]);
        string int8 = ComparisonModels.Quantized(model, tmp["m-int8"]);
        File.WriteAllText(tmp["d.jsonl"], ComparisonModels.Dialogues);
        var (code, output, err) = await CliRunner.Run(["compare", "--model", model, "--model", int8, "--model", model + "@int8", "--data", tmp["d.jsonl"],
            "--limit", "2", "--json-out", tmp["out/compare.json"], .. Quick]);
        Assert.True(code == 0, err + output);

        // The table: a row per figure, a column per model with its precision, ratios to the first.
        foreach (var row in new[] { "parameters", "weights on disk", "peak RSS", "loss", "perplexity", "exact match", "token F1", "BLEU",
                     "decode tokens/s (batch 1)", "decode tokens/s (batch 8)", "time to first token" })
            Assert.Contains(row, output);
        Assert.Contains($"{model} (fp32, onnxruntime)", output); // auto: the onnx engine for fp32 on the CPU
        Assert.Contains($"{int8} (int8)", output);
        Assert.Contains($"{model}@int8 (int8)", output);
        Assert.Contains("×1.00", output);
        // Progress went to stderr, each child's lines labelled.
        Assert.Contains($"measuring 2/3 {int8}", err);
        Assert.Contains($"[3/3 {model}@int8] replies 2/2", err);

        var json = JsonNode.Parse(File.ReadAllText(tmp["out/compare.json"]))!;
        var models = json["models"]!.AsArray();
        Assert.Equal(3, models.Count);
        Assert.Equal(2, (int)json["options"]!["limit"]!);
        Assert.Equal(["fp32", "int8", "int8"], models.Select(m => (string)m!["precision"]!));
        Assert.Equal(["model.safetensors", "model.int8.safetensors", "model.safetensors"], models.Select(m => (string)m!["weight_file"]!));
        foreach (var m in models)
        {
            Assert.Equal(2, (int)m!["examples"]!);
            Assert.True((double)m["loss"]! > 0);
            Assert.InRange((double)m["f1"]!, 0, 1);
            Assert.True((double)m["decode_tokens_per_second"]! > 0);
            Assert.True((double)m["batch8_tokens_per_second"]! > 0);
            Assert.True((double)m["time_to_first_token_seconds"]! > 0);
            if (OperatingSystem.IsLinux()) Assert.True((long)m["peak_rss_bytes"]! > 50L << 20); // a process's own: runtime and libtorch at least
        }
        // Every figure of the first model is 1 × itself; an int8 directory is smaller on disk, the same parameters.
        Assert.All(models[0]!["ratios"]!.AsObject().Where(r => r.Value is not null), r => Assert.Equal(1.0, (double)r.Value!));
        Assert.Equal(1.0, (double)models[1]!["ratios"]!["parameters"]!);
        Assert.InRange((double)models[1]!["ratios"]!["weight_bytes"]!, 0.1, 0.9);
        Assert.Equal(1.0, (double)models[2]!["ratios"]!["weight_bytes"]!);

        // The chart beside the JSON.
        byte[] png = File.ReadAllBytes(tmp["out/compare.png"]);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
        Assert.Contains($"chart → {tmp["out/compare.png"]}", output);
    }

    [Fact]
    public async Task PlainTextHasNoReplyScores()
    {
        using var tmp = new Fixture.TempDir();
        string model = ComparisonModels.Create(tmp["m"]);
        string deeper = ComparisonModels.Create(tmp["deeper"], layers: 2);
        File.WriteAllText(tmp["t.txt"], "Where is order 123? Order 123 has shipped. Can I return my mug? Yes, within 30 days.");
        var (code, output, err) = await CliRunner.Run(["compare", "--model", model, "--model", deeper, "--data", tmp["t.txt"], "--text",
            "--json-out", tmp["r.json"], "--plot", tmp["chart.png"], "--threads", "1", .. Quick]);
        Assert.True(code == 0, err + output);
        Assert.Contains("perplexity", output);
        Assert.DoesNotContain("token F1", output);
        Assert.DoesNotContain("BLEU", output);
        var json = JsonNode.Parse(File.ReadAllText(tmp["r.json"]))!;
        Assert.True((bool)json["text"]!);
        var second = json["models"]![1]!;
        Assert.Null(second["f1"]);
        Assert.Null(second["ratios"]!["f1"]);
        Assert.True((double)second["ratios"]!["parameters"]! > 1); // two layers against one
        Assert.True(File.Exists(tmp["chart.png"]));
        Assert.False(File.Exists(tmp["r.png"]));
    }

    public static TheoryData<string, string> BadInputs => new()
    {
        { "missing-model", "directory '{tmp}/nope' not found" },
        { "bad-precision", "unknown precision 'fp16'" },
        { "bad-data", "{tmp}/bad.jsonl:2" },
        { "missing-data", "{tmp}/none.jsonl: file not found" },
        { "other-tokenizer", "its tokenizer is not" },
        { "bad-limit", "--limit must be at least 1" },
        { "bad-decode", "--decode-tokens must be at least 1" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task BadInputIsAClearErrorAndWritesNothing(string kind, string message)
    {
        using var tmp = new Fixture.TempDir();
        string model = ComparisonModels.Create(tmp["m"]);
        File.WriteAllText(tmp["d.jsonl"], ComparisonModels.Dialogues);
        File.WriteAllText(tmp["bad.jsonl"], """{"input": "hi", "output": "hello"}""" + "\n{oops\n");
        string[] args = kind switch
        {
            "missing-model" => ["--model", model, "--model", tmp["nope"], "--data", tmp["d.jsonl"]],
            "bad-precision" => ["--model", model + "@fp16", "--data", tmp["d.jsonl"]],
            "bad-data" => ["--model", model, "--data", tmp["bad.jsonl"]],
            "missing-data" => ["--model", model, "--data", tmp["none.jsonl"]],
            "other-tokenizer" => ["--model", model, "--model", ComparisonModels.Create(tmp["o"], corpus: "Entirely other words make other merges."), "--data", tmp["d.jsonl"]],
            "bad-limit" => ["--model", model, "--data", tmp["d.jsonl"], "--limit", "0"],
            _ => ["--model", model, "--data", tmp["d.jsonl"], "--decode-tokens", "0"],
        };
        var (code, output, err) = await CliRunner.Run(["compare", .. args, "--json-out", tmp["out/r.json"]]);
        Assert.NotEqual(0, code);
        Assert.Contains(message.Replace("{tmp}", tmp.Root), err);
        Assert.DoesNotContain("measuring", err); // found before any model was measured
        Assert.False(Directory.Exists(tmp["out"]) && Directory.EnumerateFileSystemEntries(tmp["out"]).Any());
    }

    [Fact]
    public async Task AModelThatFailsInItsProcessIsNamedAndNothingIsWritten()
    {
        using var tmp = new Fixture.TempDir();
        string model = ComparisonModels.Create(tmp["m"]);
        string broken = ComparisonModels.Create(tmp["broken"]);
        File.WriteAllText(Path.Combine(broken, "model.safetensors"), "not safetensors"); // found only when the weights load, in the child
        File.WriteAllText(tmp["d.jsonl"], ComparisonModels.Dialogues);
        var (code, output, err) = await CliRunner.Run(["compare", "--model", model, "--model", broken, "--data", tmp["d.jsonl"],
            "--json-out", tmp["r.json"], .. Quick]);
        Assert.NotEqual(0, code);
        Assert.Contains($"2/2 {broken} failed: ", err);
        Assert.Contains("model.safetensors", err[err.LastIndexOf("failed: ", StringComparison.Ordinal)..]);
        Assert.False(File.Exists(tmp["r.json"]));
        Assert.False(File.Exists(tmp["r.png"]));
        Assert.DoesNotContain("×1.00", output); // no table either
    }

    [Fact]
    public async Task NeedsAModelAndData()
    {
        var (code, _, err) = await CliRunner.Run("compare", "--data", "d.jsonl");
        Assert.NotEqual(0, code);
        Assert.Contains("--model", err);
        (code, _, err) = await CliRunner.Run("compare", "--model", "m");
        Assert.NotEqual(0, code);
        Assert.Contains("--data", err);
    }

    [Fact]
    public async Task HelpExplainsThePrecisionSuffixAndTheChildProcesses()
    {
        var (code, output, _) = await CliRunner.Run("compare", "--help");
        Assert.Equal(0, code);
        Assert.Contains("DIR@PRECISION", output);
        Assert.Contains("child process", output);
        Assert.DoesNotContain("--figures-out", output);
    }
}
