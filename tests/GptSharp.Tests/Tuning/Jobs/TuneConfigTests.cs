using System.Text.Json.Nodes;
using GptSharp.Tests.Cli;
using GptSharp.Tests.Cli.Commands;
using GptSharp.Tests.Training;
using GptSharp.Tuning;
using GptSharp.Tuning.Jobs;
using GptSharp.Tuning.Pruners;
using GptSharp.Tuning.Samplers;

namespace GptSharp.Tests.Tuning.Jobs;

[Collection(nameof(GlobalTorchRng))]
public class TuneConfigTests
{
    static JsonObject Sample(Fixture.TempDir tmp)
    {
        var text = File.ReadAllText(Path.Combine(ReadmeCommandsTests.RepoRoot, "samples", "configs", "tune-quickstart.json"));
        var o = JsonNode.Parse(text, documentOptions: new System.Text.Json.JsonDocumentOptions { CommentHandling = System.Text.Json.JsonCommentHandling.Skip })!.AsObject();
        o["model"] = FinetuneEvalCommandTests.TinyModel(tmp);
        o["data"] = Path.Combine(ReadmeCommandsTests.RepoRoot, "samples", "dialogues", "train.jsonl");
        o["output_dir"] = tmp["tune"];
        return o;
    }

    [Fact]
    public void TheBundledTuningRecipeLoads()
    {
        using var tmp = new Fixture.TempDir();
        var c = TuneConfig.FromJson(Sample(tmp), "tune-quickstart.json");
        Assert.Equal(["learning_rate", "per_device_train_batch_size", "warmup_ratio", "lr_scheduler_type", "optim"], c.SearchSpace.Keys);
        Assert.Equal(StudyDirection.Minimize, c.Direction);
        Assert.Equal("sqlite:///" + Path.Combine(tmp["tune"], "study.db"), c.Storage);
        Assert.IsType<TpeSampler>(TuningComponents.CreateSampler(c.Sampler, c.Seed, c.SearchSpace, c.Workers));
        Assert.IsType<SuccessiveHalvingPruner>(TuningComponents.CreatePruner(c.Pruner));
        Assert.Single(c.EnqueueTrials);
        // What a study keeps reads back as the same config.
        var again = TuneConfig.FromJson(c.ToJson(), "recorded");
        Assert.Equal(c.ToJson().ToJsonString(), again.ToJson().ToJsonString());
    }

    [Theory]
    [InlineData("n_trails", 3, "did you mean n_trials")]
    [InlineData("objective", "f1", "objective: expected one of")]
    [InlineData("sampler", "tpee", "did you mean tpe")]
    [InlineData("pruner", "ashaa", "did you mean asha")]
    [InlineData("n_trials", 0, "n_trials must be at least 1")]
    [InlineData("workers", "two", "workers: expected an integer")]
    public void BadKeysAndValuesAreNamed(string key, object value, string expected)
    {
        using var tmp = new Fixture.TempDir();
        var o = Sample(tmp);
        o[key] = value is string s ? JsonValue.Create(s) : JsonValue.Create((int)value);
        var e = Assert.Throws<GptSharpException>(() =>
        {
            var c = TuneConfig.FromJson(o, "tune.json");
            TuningComponents.CreateSampler(c.Sampler, 1, c.SearchSpace);
            TuningComponents.CreatePruner(c.Pruner);
        });
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("pretrain", 2, "cv_folds applies to job finetune only")]
    [InlineData("finetune", 1, "cv_folds must be at least 2 (got 1)")]
    [InlineData("finetune", 100000, "cv_folds 100000 is more than the 3000 conversations in data")]
    [InlineData("val_data", 2, "val_data does not apply with cv_folds")]
    [InlineData("val_fraction", 2, "base: val_fraction does not apply with cv_folds")]
    [InlineData("val_fraction_tuned", 2, "search_space: val_fraction does not apply with cv_folds")]
    public void BadCvFoldsAreNamed(string variant, int folds, string expected)
    {
        using var tmp = new Fixture.TempDir();
        var o = Sample(tmp);
        o["cv_folds"] = folds;
        if (variant != "val_fraction") o["base"]!.AsObject().Remove("val_fraction");
        if (variant == "val_data") o["val_data"] = o["data"]!.GetValue<string>();
        if (variant == "val_fraction_tuned") o["search_space"]!["val_fraction"] = JsonNode.Parse("""{"type": "float", "low": 0.05, "high": 0.2}""");
        if (variant == "pretrain")
        {
            o["job"] = "pretrain";
            o.Remove("model");
            o.Remove("data");
        }
        Assert.Contains(expected, Assert.Throws<GptSharpException>(() => TuneConfig.FromJson(o, "t")).Message);
    }

    [Fact]
    public void CvFoldsScoreReplyMetricsWithoutValDataAndLetThemBePruned()
    {
        using var tmp = new Fixture.TempDir();
        var o = Sample(tmp);
        o["base"]!.AsObject().Remove("val_fraction");
        o["objective"] = "token_f1";
        Assert.Contains("give val_data (or cv_folds)", Assert.Throws<GptSharpException>(() => TuneConfig.FromJson(o, "t")).Message);
        o["cv_folds"] = 3;
        var c = TuneConfig.FromJson(o, "t"); // the pruner (asha) reads the running mean of token_f1, fold by fold
        Assert.Equal(3, c.CvFolds);
        Assert.Equal(3, TuneConfig.FromJson(c.ToJson(), "recorded").CvFolds);
    }

    [Fact]
    public void AKeyInsideTheBatchSizeScheduleCanBeTuned()
    {
        using var tmp = new Fixture.TempDir();
        var o = Sample(tmp);
        o["base"]!["batch_size_schedule"] = JsonNode.Parse("""{"start": 8, "end": 32, "ramp_steps": 20}""");
        o["base"]!["per_device_train_batch_size"] = 8;
        o["search_space"] = JsonNode.Parse("""{"batch_size_schedule.end": {"type": "categorical", "choices": [16, 32, 64]}}""");
        o.Remove("enqueue_trials");
        var c = TuneConfig.FromJson(o, "tune.json");
        var options = c.LoadOptions([TuneConfig.Override("batch_size_schedule.end", 64L)], tmp["trial"]);
        Assert.Equal(new BatchSizeScheduleProbe(8, 64, 20), new BatchSizeScheduleProbe(options.BatchSizeSchedule!.Start, options.BatchSizeSchedule.End, options.BatchSizeSchedule.RampSteps));

        o["search_space"] = JsonNode.Parse("""{"batch_size_schedule.end": {"type": "categorical", "choices": [16, 30]}}""");
        var e = Assert.Throws<GptSharpException>(() => TuneConfig.FromJson(o, "tune.json"));
        Assert.Contains("batch_size_schedule.end must be a multiple of per_device_train_batch_size = 8", e.Message);
    }

    record BatchSizeScheduleProbe(int? Start, int? End, int? RampSteps);

    [Fact]
    public void CommandLineOverridesAreCheckedToo()
    {
        using var tmp = new Fixture.TempDir();
        var c = TuneConfig.FromJson(Sample(tmp), "t");
        Assert.Contains("lives in one process", Assert.Throws<GptSharpException>(() => c.WithOverrides(2, null, "memory", "the command line")).Message);
        Assert.Contains("n_trials must be at least 1", Assert.Throws<GptSharpException>(() => c.WithOverrides(null, 0, null, "the command line")).Message);
        var d = c.WithOverrides(1, 5, "sqlite:///x.db", "the command line");
        Assert.Equal((1, 5, "sqlite:///" + Path.GetFullPath("x.db")), (d.Workers, d.NTrials, d.Storage));
    }

    [Fact]
    public void SamplerAndPrunerOptionsAreChecked()
    {
        var space = SearchSpace.Parse("""{"x": {"type": "float", "low": 0, "high": 1}}""");
        Assert.Contains("unknown option \"multivariat\"", Assert.Throws<GptSharpException>(() =>
            TuningComponents.CreateSampler(JsonNode.Parse("""{"type": "tpe", "multivariat": true}"""), 1, space)).Message);
        Assert.Contains("reduction_factor: expected an integer", Assert.Throws<GptSharpException>(() =>
            TuningComponents.CreatePruner(JsonNode.Parse("""{"type": "asha", "reduction_factor": "4"}"""))).Message);
        Assert.Null(TuningComponents.CreatePruner(JsonValue.Create("none")));
        Assert.IsType<HyperbandPruner>(TuningComponents.CreatePruner(JsonValue.Create("hyperband")));
        Assert.IsType<MedianPruner>(TuningComponents.CreatePruner(JsonValue.Create("median")));
        Assert.IsType<GridSampler>(TuningComponents.CreateSampler(JsonValue.Create("grid"), 1, SearchSpace.Parse("""{"x": {"type": "int", "low": 0, "high": 3}}""")));
    }

    [Fact]
    public void EnqueuedTrialsMustFitTheSearchSpaceAndPruningNeedsTheLoss()
    {
        using var tmp = new Fixture.TempDir();
        var o = Sample(tmp);
        o["enqueue_trials"] = JsonNode.Parse("""[{"learning_rate": 1.0}]""");
        Assert.Contains("enqueue_trials[0]: \"learning_rate\"", Assert.Throws<GptSharpException>(() => TuneConfig.FromJson(o, "t")).Message);
        o = Sample(tmp);
        o["enqueue_trials"] = JsonNode.Parse("""[{"lr": 1e-3}]""");
        Assert.Contains("\"lr\" is not in the search space", Assert.Throws<GptSharpException>(() => TuneConfig.FromJson(o, "t")).Message);
        o = Sample(tmp);
        o["objective"] = "token_f1";
        o["val_data"] = o["data"]!.GetValue<string>();
        Assert.Contains("pruner", Assert.Throws<GptSharpException>(() => TuneConfig.FromJson(o, "t")).Message);
        o["pruner"] = "none";
        Assert.Equal(StudyDirection.Maximize, TuneConfig.FromJson(o, "t").Direction);
    }
}
