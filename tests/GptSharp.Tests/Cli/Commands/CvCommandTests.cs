using System.Text.Json.Nodes;
using GptSharp.Tests.IO;
using GptSharp.Tests.Training;

namespace GptSharp.Tests.Cli.Commands;

/// <summary>`gptsharp cv` end to end on a tiny model, and its refusals: exit 1, the option named, nothing written.</summary>
[Collection(nameof(GlobalTorchRng))]
public class CvCommandTests
{
    static string Dialogues(Fixture.TempDir tmp, int count = 4)
    {
        string[] pairs =
        [
            """{"input": "Where is order 123?", "output": "Order 123 has shipped."}""",
            """{"input": "Where is order 456?", "output": "Order 456 has shipped."}""",
            """{"input": "Can I return my mug?", "output": "Yes, within 30 days."}""",
            """{"input": "Can I return my cup?", "output": "Yes, within 30 days."}""",
        ];
        File.WriteAllText(tmp["d.jsonl"], string.Join("\n", pairs.Take(count)));
        return tmp["d.jsonl"];
    }

    static readonly string[] Tiny = ["--set", "max_steps=2", "per_device_train_batch_size=2", "eval_steps=2", "eval_iters=1", "save_steps=0", "logging_steps=1", "device=cpu"];

    [Fact]
    public async Task TwoFoldsThenACompareRun()
    {
        using var tmp = new Fixture.TempDir();
        string model = FinetuneEvalCommandTests.TinyModel(tmp), data = Dialogues(tmp);
        var (code, output, err) = await CliRunner.Run(["cv", "--model", model, "--data", data, "--folds", "2", "--output", tmp["a"], .. Tiny]);
        Assert.True(code == 0, err + output);
        Assert.Contains("val_loss: ", output);
        Assert.Contains("mean ± sample std over 2 folds", output);
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(tmp["a"], "cv.json")))!;
        Assert.Equal("val_loss", (string)json["metric"]!);
        Assert.Equal(2, (int)json["folds"]!);
        var values = json["values"]!.AsArray().Select(v => (double)v!).ToArray();
        Assert.Equal(2, values.Length);
        Assert.All(values, v => Assert.True(v > 0));
        Assert.Equal(values.Average(), (double)json["mean"]!, 9);
        foreach (var fold in json["fold_results"]!.AsArray())
        {
            Assert.Equal(2, (int)fold!["train"]!);
            Assert.Equal(2, (int)fold["val"]!);
        }
        Assert.True(Directory.Exists(Path.Combine(tmp["a"], "fold-1", "final")));
        Assert.True(Directory.Exists(Path.Combine(tmp["a"], "fold-2", "final")));

        (code, output, err) = await CliRunner.Run(["cv", "--model", model, "--data", data, "--folds", "2", "--output", tmp["b"], .. Tiny,
            "learning_rate=1e-2", "--compare", Path.Combine(tmp["a"], "cv.json")]);
        Assert.True(code == 0, err + output);
        Assert.Contains("paired comparison with", output);
        Assert.Contains("with 1 degrees of freedom", output);
        var c = JsonNode.Parse(File.ReadAllText(Path.Combine(tmp["b"], "cv.json")))!["comparison"]!;
        var mine = JsonNode.Parse(File.ReadAllText(Path.Combine(tmp["b"], "cv.json")))!["values"]!.AsArray().Select(v => (double)v!).ToArray();
        var diffs = c["differences"]!.AsArray().Select(v => (double)v!).ToArray();
        for (int i = 0; i < 2; i++) Assert.Equal(mine[i] - values[i], diffs[i], 9);
        Assert.Contains((string)c["verdict"]!, new[] { "this_better", "other_better", "within_noise" });
    }

    [Fact]
    public async Task CompareSetRunsBothConfigurationsOnTheSameFoldsWithAReplyMetric()
    {
        using var tmp = new Fixture.TempDir();
        string model = FinetuneEvalCommandTests.TinyModel(tmp), data = Dialogues(tmp);
        var (code, output, err) = await CliRunner.Run(["cv", "--model", model, "--data", data, "--folds", "2", "--output", tmp["a"], "--metric", "token_f1",
            "--max-new-tokens", "4", .. Tiny, "--compare-set", "learning_rate=1e-2"]);
        Assert.True(code == 0, err + output);
        Assert.Contains("token_f1: ", output);
        Assert.Contains("higher is better", output);
        Assert.True(Directory.Exists(Path.Combine(tmp["a"], "compare", "fold-2", "final")));
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(tmp["a"], "cv.json")))!;
        Assert.Equal(2, json["comparison"]!["second"]!["values"]!.AsArray().Count);
        Assert.All(json["values"]!.AsArray(), v => Assert.InRange((double)v!, 0, 1));
    }

    static double[] Values(string outDir, bool second = false)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "cv.json")))!;
        var values = second ? json["comparison"]!["second"]!["values"]! : json["values"]!;
        return [.. values.AsArray().Select(v => (double)v!)];
    }

    [Fact]
    public async Task ParallelFoldProcessesGiveExactlyTheSequentialValues()
    {
        using var tmp = new Fixture.TempDir();
        // Dropout draws from torch's process-wide generator: the fold processes must draw what one process draws.
        string model = FinetuneEvalCommandTests.TinyModel(tmp, dropout: 0.1), data = Dialogues(tmp);
        // Compute threads decide how sums are split, and so the last bits: the same --threads, the same values. The
        // sequential run is a process of its own, so that its --threads leaves this test host's alone.
        string[] job = ["cv", "--model", model, "--data", data, "--folds", "2", "--threads", "1", .. Tiny, "--compare-set", "learning_rate=1e-2"];
        var (code, output, err) = await CliProcess.Run(tmp.Root, [.. job, "--output", tmp["seq"]]);
        Assert.True(code == 0, err + output);
        (code, output, err) = await CliRunner.Run([.. job, "--output", tmp["par"], "--parallel", "5"]);
        Assert.True(code == 0, err + output);
        Assert.Contains("--parallel 5 is more than the 4 fold runs: running 4 at a time", output);
        Assert.Contains("[fold 2] ", output);
        Assert.Contains("[compare fold 1] ", output);
        Assert.Equal(Values(tmp["seq"]), Values(tmp["par"]));
        Assert.Equal(Values(tmp["seq"], second: true), Values(tmp["par"], second: true));
        Assert.NotEqual(Values(tmp["par"]), Values(tmp["par"], second: true)); // the compare processes ran their own configuration
        Assert.True(File.Exists(Path.Combine(tmp["par"], "fold-2", "cv-fold.json")));
        Assert.Equal(1, (int)JsonNode.Parse(File.ReadAllText(Path.Combine(tmp["par"], "cv.json")))!["threads"]!);
        Assert.True(Directory.Exists(Path.Combine(tmp["par"], "compare", "fold-1", "final")));
    }

    [Fact]
    public async Task AFailingFoldProcessIsReportedWithItsFoldAndError()
    {
        using var tmp = new Fixture.TempDir();
        string model = FinetuneEvalCommandTests.TinyModel(tmp), data = Dialogues(tmp);
        // block_size beyond the model's 64 positions is found when a fold loads the model: in the compare processes only.
        var (code, output, err) = await CliRunner.Run(["cv", "--model", model, "--data", data, "--folds", "2", "--output", tmp["out"], .. Tiny,
            "--compare-set", "block_size=128", "--parallel", "2"]);
        Assert.True(code == 1, err + output);
        Assert.Matches(@"error: compare fold [12] failed: block_size \(128\) exceeds the model's n_positions \(64\)", err);
        Assert.True(File.Exists(Path.Combine(tmp["out"], "fold-1", "cv-fold.json"))); // the first configuration's folds ran
        Assert.False(File.Exists(Path.Combine(tmp["out"], "cv.json")));
    }

    [Fact]
    public void CtrlCStopsEveryFoldProcessAndEachSavesItsRun()
    {
        using var tmp = new Fixture.TempDir();
        string model = FinetuneEvalCommandTests.TinyModel(tmp), data = Dialogues(tmp);
        string[] endless = [.. Tiny.Select(a => a == "max_steps=2" ? "max_steps=100000" : a)];
        // The output directory is in every fold process's command line: how the test finds them all.
        using var cli = new CliProcess(new Dictionary<string, string?>(), ["cv", "--model", model, "--data", data, "--folds", "2", "--parallel", "2",
            "--output", tmp["out"], .. endless]);
        foreach (var fold in new[] { "[fold 1] step ", "[fold 2] step " })
            Assert.True(cli.WaitForOutput(fold, TimeSpan.FromSeconds(120)), $"no progress from {fold}\n{cli.Out}\n{cli.Err}");
        Assert.Equal(3, CliProcess.ProcessesMentioning(tmp["out"]).Length);
        cli.Signal(2); // SIGINT to the parent alone, as a process manager would send it: it passes it on
        int? code = cli.WaitForExit(TimeSpan.FromSeconds(90));
        Assert.True(code == 130, $"exit code {code}\n{cli.Out}\n{cli.Err}");
        Assert.Empty(CliProcess.ProcessesMentioning(tmp["out"]));
        foreach (var fold in new[] { "fold-1", "fold-2" })
            Assert.NotEmpty(Directory.GetDirectories(Path.Combine(tmp["out"], fold), "checkpoint-*"));
        Assert.False(File.Exists(Path.Combine(tmp["out"], "cv.json")));
    }

    public static TheoryData<string[], string> BadInputs => new()
    {
        { ["--parallel", "0"], "--parallel must be at least 1, got 0" },
        { ["--threads", "0"], "--threads must be at least 1, got 0" },
        { ["--folds", "1"], "--folds must be at least 2" },
        { ["--folds", "5"], "--folds 5 is more than the 4 conversations" },
        { ["--data", "missing.jsonl"], "--data: " },
        { ["--model", "missing-model"], "--model: " },
        { ["--config", "missing.json"], "--config: " },
        { ["--compare", "missing-cv.json"], "--compare: " },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public async Task BadInputExitsOneAndWritesNothing(string[] bad, string message)
    {
        using var tmp = new Fixture.TempDir();
        string model = FinetuneEvalCommandTests.TinyModel(tmp), data = Dialogues(tmp);
        var args = new Dictionary<string, string> { ["--model"] = model, ["--data"] = data, ["--folds"] = "2" };
        for (int i = 0; i < bad.Length; i += 2) args[bad[i]] = bad[i + 1].Contains("missing") ? tmp[bad[i + 1]] : bad[i + 1];
        var (code, output, err) = await CliRunner.Run(["cv", .. args.SelectMany(a => new[] { a.Key, a.Value }), "--output", tmp["out"], .. Tiny]);
        Assert.True(code == 1, err + output);
        Assert.Contains(message, err);
        Assert.False(Path.Exists(tmp["out"]));
    }

    [Fact]
    public async Task CompareWithOtherFoldsIsRefused()
    {
        using var tmp = new Fixture.TempDir();
        string model = FinetuneEvalCommandTests.TinyModel(tmp), data = Dialogues(tmp);
        File.WriteAllText(tmp["other.json"], """{"metric": "val_loss", "folds": 3, "seed": 1337, "conversations": 4, "values": [1, 2, 3]}""");
        var (code, _, err) = await CliRunner.Run(["cv", "--model", model, "--data", data, "--folds", "2", "--output", tmp["out"], "--compare", tmp["other.json"], .. Tiny]);
        Assert.Equal(1, code);
        Assert.Contains("--compare: ", err);
        Assert.Contains("3 folds (this run: 2)", err);
        Assert.False(Path.Exists(tmp["out"]));
    }
}
