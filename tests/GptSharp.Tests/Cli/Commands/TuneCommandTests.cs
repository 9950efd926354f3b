using System.Text.Json.Nodes;
using GptSharp.Tests.Data;
using GptSharp.Tests.Training;
using GptSharp.Tuning;
using GptSharp.Tuning.Storages;

namespace GptSharp.Tests.Cli.Commands;

[Collection(nameof(GlobalTorchRng))]
public class TuneCommandTests
{
    static readonly string[] Pairs =
    [
        """{"input": "Where is order 123?", "output": "Order 123 has shipped."}""",
        """{"input": "Can I return my mug?", "output": "Yes, within 30 days."}""",
        """{"input": "Where is order 124?", "output": "Order 124 has shipped."}""",
        """{"input": "Can I return my cup?", "output": "Yes, within 30 days."}""",
    ];

    static string TuneConfig(Fixture.TempDir tmp, string extra = "", string pruner = """{"type": "median", "n_startup_trials": 1}""", int trials = 3, string searchSpace = """
        {"learning_rate": {"type": "float", "low": 1e-4, "high": 1e-2, "log": true},
         "per_device_train_batch_size": {"type": "categorical", "choices": [1, 2]}}
        """, bool valData = true)
    {
        string model = FinetuneEvalCommandTests.TinyModel(tmp);
        File.WriteAllText(tmp["d.jsonl"], string.Join("\n", Pairs));
        return tmp.WriteText("tune.json", $$"""
            {
              "job": "finetune", "model": "{{model}}", "data": "{{tmp["d.jsonl"]}}"{{(valData ? $", \"val_data\": \"{tmp["d.jsonl"]}\"" : "")}},
              "base": {"max_steps": 4, "eval_steps": 2, "eval_iters": 1, "save_steps": 0, "logging_steps": 2, "device": "cpu", "seed": 1},
              "search_space": {{searchSpace}},
              "n_trials": {{trials}}, "sampler": {"type": "random", "seed": 5}, "pruner": {{pruner}},
              "storage": "sqlite:///{{tmp["study.db"]}}", "study_name": "ft", "output_dir": "{{tmp["tune"]}}"{{extra}}
            }
            """);
    }

    [Fact]
    public async Task TunesAFineTuningJobThenContinuesTheStudyWhenRunAgain()
    {
        using var tmp = new Fixture.TempDir();
        string config = TuneConfig(tmp);
        var (code, output, err) = await CliRunner.Run("tune", "--config", config);
        Assert.True(code == 0, err + output);
        Assert.Contains("best: trial", output);
        Assert.Contains("reproduce it with:", output);
        Assert.Contains("gptsharp finetune --model", output);
        Assert.Contains("--set learning_rate=", output);

        using (var storage = TrialStorages.Open("sqlite:///" + tmp["study.db"]))
        {
            var trials = storage.GetAllTrials(storage.FindStudy("ft")!.Id);
            Assert.Equal(3, trials.Count);
            Assert.All(trials, t => Assert.True(t.State is TrialState.Complete or TrialState.Pruned, t.State.ToName()));
            Assert.All(trials, t => Assert.True(Directory.Exists(Path.Combine(tmp["tune"], $"trial-{t.Number:D4}"))));
            Assert.All(trials.Where(t => t.State == TrialState.Complete), t => Assert.Equal(2, t.IntermediateValues.Count)); // steps 2 and 4
        }
        Assert.Empty(Directory.GetDirectories(tmp["tune"], ".trial-*"));
        var csv = File.ReadAllLines(Path.Combine(tmp["tune"], "trials.csv"));
        Assert.Equal("number,state,value,duration_s,last_step,params_learning_rate,params_per_device_train_batch_size", csv[0]);
        Assert.Equal(4, csv.Length);
        Assert.True(File.Exists(Path.Combine(tmp["tune"], "base.json")));

        // The same command with a larger budget continues the study instead of starting over.
        (code, output, err) = await CliRunner.Run("tune", "--config", config, "--n-trials", "4");
        Assert.True(code == 0, err + output);
        Assert.Contains("3 of 4 trials done", output);
        using (var storage = TrialStorages.Open("sqlite:///" + tmp["study.db"]))
            Assert.Equal(4, storage.GetAllTrials(storage.FindStudy("ft")!.Id).Count);
    }

    [Fact]
    public async Task TunesThePretrainingModelsShapeWithAGrid()
    {
        using var corpus = new TinyCorpus();
        using var tmp = new Fixture.TempDir();
        string config = tmp.WriteText("tune.json", $$"""
            {
              "job": "pretrain",
              "base": {"data_dir": "{{corpus.DataDir}}", "max_steps": 4, "per_device_train_batch_size": 2, "block_size": 16, "n_head": 2, "n_embd": 16,
                       "eval_steps": 2, "eval_iters": 1, "save_steps": 0, "device": "cpu", "seed": 3},
              "search_space": {"n_layer": {"type": "int", "low": 1, "high": 2}, "learning_rate": {"type": "categorical", "choices": [0.001, 0.01]} },
              "n_trials": 10, "sampler": "grid", "storage": "sqlite:///{{tmp["g.db"]}}", "study_name": "shape", "output_dir": "{{tmp["tune"]}}"
            }
            """);
        var (code, output, err) = await CliRunner.Run("tune", "--config", config);
        Assert.True(code == 0, err + output);
        Assert.Contains("gptsharp train --config", output);
        using var storage = TrialStorages.Open("sqlite:///" + tmp["g.db"]);
        var trials = storage.GetAllTrials(storage.FindStudy("shape")!.Id);
        Assert.Equal(4, trials.Count); // the whole grid, once each, then the study stops
        Assert.Equal(4, trials.Select(t => $"{t.Params["n_layer"]}/{t.Params["learning_rate"]}").Distinct().Count());
        Assert.All(trials, t => Assert.Equal(TrialState.Complete, t.State));
        // Each trial trained the shape it was given.
        foreach (var t in trials)
        {
            var model = JsonNode.Parse(File.ReadAllText(Path.Combine(tmp["tune"], $"trial-{t.Number:D4}", "final", "config.json")))!;
            Assert.Equal((long)t.Params["n_layer"]!, model["n_layer"]!.GetValue<long>());
        }
    }

    [Fact]
    public async Task AReplyMetricCanBeTheObjective()
    {
        using var tmp = new Fixture.TempDir();
        string config = TuneConfig(tmp, ", \"objective\": \"token_f1\"", pruner: "\"none\"", trials: 2);
        var (code, output, err) = await CliRunner.Run("tune", "--config", config);
        Assert.True(code == 0, err + output);
        Assert.Contains("token_f1", output);
        using var storage = TrialStorages.Open("sqlite:///" + tmp["study.db"]);
        var study = storage.FindStudy("ft")!;
        Assert.Equal(StudyDirection.Maximize, study.Direction);
        Assert.All(storage.GetAllTrials(study.Id), t => Assert.InRange(t.Value!.Value, 0, 1));
    }

    [Fact]
    public async Task CrossValidatedTrialsScoreTheMeanOfTheirFolds()
    {
        using var tmp = new Fixture.TempDir();
        string config = TuneConfig(tmp, ", \"cv_folds\": 2", trials: 2, valData: false);
        var (code, output, err) = await CliRunner.Run("tune", "--config", config);
        Assert.True(code == 0, err + output);
        Assert.Contains("after 2 of 2 folds", output);
        Assert.Contains("gptsharp cv --model", output); // the best trial's reproduction is a cv run
        using var storage = TrialStorages.Open("sqlite:///" + tmp["study.db"]);
        var trials = storage.GetAllTrials(storage.FindStudy("ft")!.Id);
        Assert.Equal(2, trials.Count);
        foreach (var t in trials)
        {
            var values = JsonNode.Parse(t.UserAttrs["cv_values"])!.AsArray().Select(v => (double)v!).ToArray();
            Assert.Equal(t.State == TrialState.Complete ? 2 : 1, values.Length);
            double std = values.Length == 2 ? Math.Abs(values[0] - values[1]) / Math.Sqrt(2) : 0; // the sample standard deviation
            Assert.Equal(std, JsonNode.Parse(t.UserAttrs["cv_std"])!.GetValue<double>(), 9);
            // One report per fold: the running mean at step = the fold's number, never a training step's val_loss.
            Assert.Equal(Enumerable.Range(1, values.Length), t.IntermediateValues.Keys.Order());
            Assert.Equal(values.Average(), t.IntermediateValues[values.Length], 12);
            if (t.State == TrialState.Complete) Assert.Equal(values.Average(), t.Value!.Value, 12);
            for (int f = 1; f <= values.Length; f++)
                Assert.True(Directory.Exists(Path.Combine(tmp["tune"], $"trial-{t.Number:D4}", $"fold-{f}", "final")), $"trial {t.Number} fold {f}");
        }
        Assert.Contains(trials, t => t.State == TrialState.Complete);
        Assert.Empty(Directory.GetDirectories(tmp["tune"], ".trial-*"));
    }

    [Theory]
    [InlineData("""{"learning_rat": {"type": "float", "low": 1e-4, "high": 1e-2}}""", "learning_rate")]
    [InlineData("""{"learning_rate": {"type": "float", "low": 1e-2, "high": 1e-4}}""", "must not exceed")]
    [InlineData("""{"learning_rate": {"type": "float", "low": 0, "high": 1e-2, "log": true}}""", "low > 0")]
    [InlineData("""{"optim": {"type": "categorical", "choices": []}}""", "empty")]
    [InlineData("""{"n_layer": {"type": "int", "low": 1, "high": 4}}""", "does not apply to fine-tuning")]
    [InlineData("""{"per_device_train_batch_size": {"type": "categorical", "choices": [1, "big"]}}""", "per_device_train_batch_size = big")]
    [InlineData("""{"output_dir": {"type": "categorical", "choices": ["a"]}}""", "not tuned")]
    public async Task BadSearchSpacesFailBeforeAnythingIsWritten(string space, string expected)
    {
        using var tmp = new Fixture.TempDir();
        string config = TuneConfig(tmp, searchSpace: space);
        var (code, output, err) = await CliRunner.Run("tune", "--config", config);
        Assert.Equal(1, code);
        Assert.Contains(expected, err);
        Assert.False(File.Exists(tmp["study.db"]));
        Assert.False(Directory.Exists(tmp["tune"]));
    }

    [Fact]
    public async Task AChangedSearchSpaceForAnExistingStudyIsRefusedNamingTheParameter()
    {
        using var tmp = new Fixture.TempDir();
        string config = TuneConfig(tmp, """, "keep_best": 1""");
        var (code, output, err) = await CliRunner.Run("tune", "--config", config, "--n-trials", "1");
        Assert.True(code == 0, err + output);
        File.WriteAllText(config, File.ReadAllText(config).Replace("\"high\": 1e-2", "\"high\": 1e-1"));
        (code, output, err) = await CliRunner.Run("tune", "--config", config, "--n-trials", "2");
        Assert.Equal(1, code);
        Assert.Contains("\"learning_rate\"", err);
    }

    [Fact]
    public async Task AskAndTellDriveAStudyFromOutside()
    {
        using var tmp = new Fixture.TempDir();
        string url = "sqlite:///" + tmp["s.db"];
        const string space = """{"x": {"type": "float", "low": -5, "high": 5}, "n": {"type": "int", "low": 1, "high": 8, "step": 1}, "o": {"type": "categorical", "choices": ["adamw", "sgd"]}}""";
        for (int i = 0; i < 3; i++)
        {
            var (code, output, err) = await CliRunner.Run("tune", "ask", "--storage", url, "--study", "q", "--sampler", "random", "--seed", "3", "--search-space", space);
            Assert.True(code == 0, err);
            var line = JsonNode.Parse(output.Trim())!.AsObject();
            Assert.Equal(i, line["number"]!.GetValue<int>());
            double x = line["params"]!["x"]!.GetValue<double>();
            Assert.InRange(x, -5, 5);
            Assert.Contains(line["params"]!["o"]!.GetValue<string>(), new[] { "adamw", "sgd" });
            (code, output, err) = i == 2
                ? await CliRunner.Run("tune", "tell", "--storage", url, "--study", "q", "--trial", "2", "--state", "pruned")
                : await CliRunner.Run("tune", "tell", "--storage", url, "--study", "q", "--trial", i.ToString(), "--value", (x * x).ToString("R"));
            Assert.True(code == 0, err);
        }
        var again = await CliRunner.Run("tune", "tell", "--storage", url, "--study", "q", "--trial", "0", "--value", "1");
        Assert.Equal(1, again.Code);
        Assert.Contains("already complete", again.Err);
        var missing = await CliRunner.Run("tune", "tell", "--storage", url, "--study", "qq", "--trial", "0", "--value", "1");
        Assert.Equal(1, missing.Code);
        Assert.Contains("\"q\"", missing.Err);
        var changed = await CliRunner.Run("tune", "ask", "--storage", url, "--study", "q", "--search-space", space.Replace("\"high\": 5", "\"high\": 6"));
        Assert.Equal(1, changed.Code);
        Assert.Contains("\"x\"", changed.Err);
        var neither = await CliRunner.Run("tune", "tell", "--storage", url, "--study", "q", "--trial", "1");
        Assert.Equal(1, neither.Code);

        using var storage = TrialStorages.Open(url);
        var trials = storage.GetAllTrials(storage.FindStudy("q")!.Id);
        Assert.Equal([TrialState.Complete, TrialState.Complete, TrialState.Pruned], trials.Select(t => t.State));
    }
}
