using System.Text.Json.Nodes;
using GptSharp.Tests.Cli.Commands;
using GptSharp.Tests.Data;
using GptSharp.Tokenization;
using GptSharp.Training;

namespace GptSharp.Tests.Training;

/// <summary>batch_size_schedule: the sizes of a ramp and of explicit steps, the learning-rate scaling, its validation, and runs that ramp and resume mid-ramp.</summary>
[Collection(nameof(GlobalTorchRng))]
public class BatchSizeScheduleTests(TinyCorpus corpus) : IClassFixture<TinyCorpus>
{
    static BatchSizeSchedule Ramp(int start, int end, double? tokens = null, int? steps = null, string grow = "accumulation", string scale = "none") =>
        new() { Start = start, End = end, RampTokens = tokens, RampSteps = steps, Grow = grow, ScaleLr = scale };

    [Fact]
    public void ARampOverTokensGrowsAccumulationAndRoundsDown()
    {
        var s = Ramp(8, 64, tokens: 1000);
        Assert.Equal(new BatchShape(8, 1), s.At(1, 0, perDevice: 8));
        Assert.Equal(new BatchShape(8, 4), s.At(7, 500, 8));      // 8 + 56 · 0.5 = 36 → 32, the largest multiple of 8
        Assert.Equal(new BatchShape(8, 7), s.At(9, 999, 8));      // 63.9 → 56
        Assert.Equal(new BatchShape(8, 8), s.At(10, 1000, 8));
        Assert.Equal(new BatchShape(8, 8), s.At(99, 10_000, 8));  // stays at end
    }

    [Fact]
    public void GrowBatchFillsTheDeviceBatchBeforeAccumulating()
    {
        var s = Ramp(2, 32, steps: 10, grow: "batch");
        int[] sizes = Enumerable.Range(1, 12).Select(step => s.At(step, 0, perDevice: 8).Sequences).ToArray();
        Assert.Equal([2, 5, 8, 8, 8, 16, 16, 16, 24, 24, 32, 32], sizes); // 2 + 30·(n-1)/10, rounded to what 8-row micro-batches can form
        Assert.Equal(new BatchShape(5, 1), s.At(2, 0, 8));
        Assert.Equal(new BatchShape(8, 3), s.At(9, 0, 8));
    }

    [Fact]
    public void ExplicitStepsApplyFromTheStepAfterTheirCount()
    {
        var s = new BatchSizeSchedule { Steps = [new(0, 4), new(3, 8), new(5, 16)] };
        Assert.Equal([4, 4, 4, 8, 8, 16, 16], Enumerable.Range(1, 7).Select(step => s.At(step, 0, 4).Sequences));
        Assert.Equal(16, s.Largest);
    }

    [Fact]
    public void TheLearningRateScalesToTheLargestBatch()
    {
        var shape = new BatchShape(8, 2);
        Assert.Equal(1.0, Ramp(8, 64, 100).LearningRateFactor(shape));
        Assert.Equal(0.25, Ramp(8, 64, 100, scale: "linear").LearningRateFactor(shape));
        Assert.Equal(0.5, Ramp(8, 64, 100, scale: "sqrt").LearningRateFactor(shape));
    }

    [Fact]
    public void EpochsCountTheScheduledSequences()
    {
        var s = Ramp(1, 4, steps: 4, grow: "batch"); // sizes 1, 1, 2, 3, then 4
        Assert.Equal(8, s.StepsFor(20, perDevice: 4));  // 7 after four steps, then ⌈13 / 4⌉
        Assert.Equal(3, s.StepsFor(4, 4));
        var o = new PretrainingOptions { OutputDir = "x", NumTrainEpochs = 2, PerDeviceTrainBatchSize = 4, BatchSizeSchedule = s };
        Assert.Equal(8, o.ResolveMaxSteps(b => 10 / b)); // 10 sequences an epoch
    }

    [Theory]
    [InlineData("{\"start\": 16, \"end\": 8, \"ramp_steps\": 5}", "batch_size_schedule.end must be at least start = 16 (got 8)")]
    [InlineData("{\"start\": 6, \"end\": 16, \"ramp_steps\": 5}", "batch_size_schedule.start must be a multiple of per_device_train_batch_size = 4 with grow=accumulation (got 6)")]
    [InlineData("{\"start\": 2, \"end\": 10, \"ramp_steps\": 5, \"grow\": \"batch\"}", "batch_size_schedule.end must be at most per_device_train_batch_size = 4 or a multiple of it with grow=batch (got 10)")]
    [InlineData("{\"start\": 4, \"end\": 16}", "give one of ramp_tokens (tokens seen) or ramp_steps")]
    [InlineData("{\"start\": 4, \"end\": 16, \"ramp_steps\": 5, \"ramp_tokens\": 100}", "give one of ramp_tokens (tokens seen) or ramp_steps")]
    [InlineData("{\"start\": 4, \"end\": 16, \"ramp_steps\": 0}", "batch_size_schedule.ramp_steps must be at least 1 (got 0)")]
    [InlineData("{\"end\": 16, \"ramp_steps\": 5}", "batch_size_schedule.start is required")]
    [InlineData("{\"start\": 4, \"end\": 16, \"ramp_steps\": 5, \"grow\": \"wider\"}", "batch_size_schedule.grow must be one of: accumulation, batch (got 'wider')")]
    [InlineData("{\"start\": 4, \"end\": 16, \"ramp_steps\": 5, \"scale_lr\": \"cube\"}", "batch_size_schedule.scale_lr must be one of: none, linear, sqrt (got 'cube')")]
    [InlineData("{\"steps\": [{\"step\": 2, \"batch_size\": 4}]}", "batch_size_schedule.steps[0].step must be 0")]
    [InlineData("{\"steps\": [{\"step\": 0, \"batch_size\": 4}, {\"step\": 0, \"batch_size\": 8}]}", "batch_size_schedule.steps[1].step must be after steps[0].step = 0 (got 0)")]
    [InlineData("{\"steps\": [{\"step\": 0, \"batch_size\": 4}], \"start\": 4}", "steps replaces start, end, ramp_tokens and ramp_steps")]
    [InlineData("{\"start\": 4, \"end\": 16, \"ramp_steps\": 5, \"extra\": 1}", "batch_size_schedule")]
    public void BadSchedulesNameTheKey(string schedule, string message)
    {
        var e = Assert.Throws<GptSharpException>(() => OptionsLoader.Load<PretrainingOptions>(
            new JsonObject { ["data_dir"] = "d", ["output_dir"] = "o", ["per_device_train_batch_size"] = 4, ["batch_size_schedule"] = JsonNode.Parse(schedule) },
            "run.json", []).Validate());
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void TheScheduleRefusesAccumulationAndTokenRampsByEpochs()
    {
        var s = Ramp(4, 16, tokens: 1000);
        var e = Assert.Throws<GptSharpException>(() => new PretrainingOptions { OutputDir = "o", BatchSizeSchedule = s, GradientAccumulationSteps = 2 }.Validate());
        Assert.Contains("gradient_accumulation_steps must stay 1 (got 2)", e.Message);
        e = Assert.Throws<GptSharpException>(() => new PretrainingOptions { OutputDir = "o", BatchSizeSchedule = s, PerDeviceTrainBatchSize = 4, NumTrainEpochs = 1 }.Validate());
        Assert.Contains("ramp_tokens cannot be combined with num_train_epochs", e.Message);
    }

    [Fact]
    public void SetTakesOneKeyOfTheScheduleOrTheWholeObject()
    {
        var o = OptionsLoader.Load<PretrainingOptions>(new JsonObject { ["data_dir"] = "d", ["output_dir"] = "o" }, null,
            ["batch_size_schedule={\"start\": 8, \"end\": 32, \"ramp_tokens\": 2e6}", "batch_size_schedule.end=64", "batch_size_schedule.scale_lr=sqrt"]);
        Assert.Equal(Ramp(8, 64, tokens: 2e6, scale: "sqrt") with { }, o.BatchSizeSchedule! with { });
        var e = Assert.Throws<GptSharpException>(() => OptionsLoader.Load<PretrainingOptions>(new JsonObject(), null, ["batch_size_schedule.ending=64"]));
        Assert.Contains("unknown option 'batch_size_schedule.ending'", e.Message);
        Assert.Contains("ramp_tokens", e.Message);
        e = Assert.Throws<GptSharpException>(() => OptionsLoader.Load<PretrainingOptions>(new JsonObject(), null, ["batch_size_schedule.end=many"]));
        Assert.Contains("--set batch_size_schedule.end=many: expected an integer", e.Message);
        e = Assert.Throws<GptSharpException>(() => OptionsLoader.Load<PretrainingOptions>(new JsonObject(), null, ["batch_size_schedule=[8]"]));
        Assert.Contains("expected a JSON object of start, end", e.Message);
    }

    static JsonObject[] TrainLines(string dir) =>
        MetricsLog.Read(Path.Combine(dir, MetricsLog.FileName)).Where(m => m["loss"] is not null).ToArray();

    [Fact]
    public async Task ARunRampsItsBatchLogsItAndTheLearningRateFollows()
    {
        var o = corpus.Options("ramp") with
        {
            MaxSteps = 12, EvalSteps = 0, LrSchedulerType = "constant", WarmupSteps = 0,
            BatchSizeSchedule = Ramp(4, 16, tokens: 4 * 32 * 6, scale: "linear"), // full batch after 6 start-size batches' tokens
        };
        await Pretraining.RunAsync(o);
        var lines = TrainLines(o.OutputDir);
        int[] sizes = lines.Select(l => (int)l["batch_size"]!).ToArray();
        // tokens seen before step n decide it: 0 → 4; 128 tokens (1/6) → 6 → 4; 256 → 8; 512 → 12; 896 → 16.
        Assert.Equal([4, 4, 8, 12, 16, 16, 16, 16, 16, 16, 16, 16], sizes);
        Assert.Equal(sizes, lines.Select(l => (int)l["micro_batch_size"]! * (int)l["gradient_accumulation_steps"]!));
        Assert.All(lines, l => Assert.Equal(4, (int)l["micro_batch_size"]!));
        Assert.Equal(sizes.Select(b => 3e-3 * b / 16), lines.Select(l => (double)l["lr"]!), (a, b) => Math.Abs(a - b) < 1e-12);
        var state = TrainerState.Read(Path.Combine(o.OutputDir, "final", TrainerState.FileName));
        Assert.Equal(sizes.Sum() * 32L, state.TokensSeen);
        Assert.Contains("\"batch_size_schedule\"", File.ReadAllText(Path.Combine(o.OutputDir, Trainer.RunFile)));
    }

    [Fact]
    public async Task ARunWithoutAScheduleKeepsItsRunJsonAndLogsItsFixedBatch()
    {
        var o = corpus.Options("fixed") with { MaxSteps = 2, EvalSteps = 0, WarmupSteps = 0, GradientAccumulationSteps = 2 };
        await Pretraining.RunAsync(o);
        Assert.DoesNotContain("batch_size_schedule", File.ReadAllText(Path.Combine(o.OutputDir, Trainer.RunFile))); // the options hash of old runs holds
        Assert.All(TrainLines(o.OutputDir), l => Assert.Equal(8, (int)l["batch_size"]!));
        Assert.All(TrainLines(o.OutputDir), l => Assert.Null(l["micro_batch_size"]));
    }

    [Theory]
    [InlineData("accumulation")]
    [InlineData("batch")]
    public async Task ResumingMidRampIsExact(string grow)
    {
        var straight = corpus.Options($"ramp-straight-{grow}") with
        {
            MaxSteps = 14, EvalSteps = 7, SaveSteps = 0, Dropout = 0.1,
            BatchSizeSchedule = grow == "batch" ? Ramp(1, 8, tokens: 40 * 32, grow: "batch", scale: "sqrt") : Ramp(4, 12, steps: 8),
        };
        await Pretraining.RunAsync(straight);
        var split = straight with { OutputDir = corpus.Dir[$"ramp-split-{grow}"] };
        using var cts = new CancellationTokenSource();
        var first = await Pretraining.RunAsync(split, new ProgressRecorder { OnStep = p => { if (p.Step == 5) cts.Cancel(); } }, cts.Token);
        Assert.Equal(5, first.Step);
        await Pretraining.RunAsync(split with { ResumeFromCheckpoint = "latest" });

        var (a, b) = (TrainLines(straight.OutputDir), TrainLines(split.OutputDir));
        Assert.Equal(14, a.Length);
        Assert.True(a.Select(l => (int)l["batch_size"]!).Distinct().Count() >= 3, "the ramp should pass through several sizes");
        Assert.True((int)a[4]["batch_size"]! < (int)a[^1]["batch_size"]!, "the cut should fall mid-ramp");
        Assert.Equal(a.Select(l => (double)l["loss"]!), b.Select(l => (double)l["loss"]!));
        Assert.Equal(a.Select(l => (int)l["batch_size"]!), b.Select(l => (int)l["batch_size"]!));
        Assert.Equal(File.ReadAllBytes(Path.Combine(straight.OutputDir, "final", "model.safetensors")),
                     File.ReadAllBytes(Path.Combine(split.OutputDir, "final", "model.safetensors")));
    }

    [Fact]
    public async Task FineTuningGrowsItsPerDeviceBatchOverEpochs()
    {
        using var tmp = new Fixture.TempDir();
        var dialogues = Enumerable.Range(0, 10).Select(i =>
            new Conversation([new(TurnRole.User, $"Where is order {i}?"), new(TurnRole.Assistant, $"Order {i} has shipped.")])).ToList();
        var o = FineTuningOptions.Load(null, [$"output_dir={tmp["ft"]}", "num_train_epochs=2", "per_device_train_batch_size=4", "eval_steps=0",
            "logging_steps=1", "save_steps=0", "device=cpu", "batch_size_schedule={\"steps\": [{\"step\": 0, \"batch_size\": 1}, {\"step\": 2, \"batch_size\": 4}], \"grow\": \"batch\"}"]);
        using var plan = FineTuning.Check(new FineTuningInputs { ModelDir = FinetuneEvalCommandTests.TinyModel(tmp), Train = dialogues }, o);
        Assert.Equal(6, plan.MaxSteps); // 1 + 1 + ⌈18 / 4⌉ covers 20 conversations
        var result = await FineTuning.RunAsync(plan);
        Assert.Equal(6, result.Step);
        Assert.Equal([1, 1, 4, 4, 4, 4], TrainLines(o.OutputDir).Select(l => (int)l["batch_size"]!));
    }
}
