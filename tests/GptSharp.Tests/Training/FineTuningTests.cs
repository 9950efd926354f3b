using GptSharp.Tests.Cli.Commands;
using GptSharp.Checkpoints;
using GptSharp.Models;
using GptSharp.Tests.Data;
using GptSharp.Tokenization;
using GptSharp.Training;

namespace GptSharp.Tests.Training;

/// <summary>Fine-tuning from conversations in memory: the same run as from a file, checked by the same rules.</summary>
[Collection(nameof(GlobalTorchRng))]
public class FineTuningTests
{
    static readonly Conversation[] Dialogues =
    [
        new([new(TurnRole.User, "Where is order 123?"), new(TurnRole.Assistant, "Order 123 has shipped.")]),
        new([new(TurnRole.System, "Be brief."), new(TurnRole.User, "Where is order 456?"), new(TurnRole.Assistant, "Order 456 has shipped.")]),
        new([new(TurnRole.User, "Can I return my mug?"), new(TurnRole.Assistant, "Yes, within 30 days.")]),
        new([new(TurnRole.User, "我的订单到了吗？"), new(TurnRole.Assistant, "您的订单已经发货。")]),
    ];

    /// <summary>The same dialogues as a JSONL file of input/output pairs.</summary>
    const string Jsonl = """
        {"input": "Where is order 123?", "output": "Order 123 has shipped."}
        {"input": "Where is order 456?", "output": "Order 456 has shipped.", "system": "Be brief."}
        {"input": "Can I return my mug?", "output": "Yes, within 30 days."}
        {"input": "我的订单到了吗？", "output": "您的订单已经发货。"}
        """;

    static string TinyModel(Fixture.TempDir tmp) => FinetuneEvalCommandTests.TinyModel(tmp); // the same tiny base model as the CLI tests

    static FineTuningOptions Options(string outputDir) => FineTuningOptions.Load(null,
        [$"output_dir={outputDir}", "max_steps=4", "per_device_train_batch_size=2", "eval_steps=2", "eval_iters=1", "save_steps=0", "logging_steps=1", "device=cpu"]);

    static double[] Losses(string outputDir) =>
        MetricsLog.Read(Path.Combine(outputDir, MetricsLog.FileName)).Select(m => (m["loss"] ?? m["val_loss"])!.GetValue<double>()).ToArray();

    [Fact]
    public async Task InMemoryConversationsTrainLikeTheSameFile()
    {
        using var tmp = new Fixture.TempDir();
        string model = TinyModel(tmp);

        using (var plan = FineTuning.Check(new FineTuningInputs { ModelDir = model, Train = Dialogues, Validation = Dialogues[..2] }, Options(tmp["memory"])))
        {
            Assert.Equal(64, plan.BlockSize); // fitted to the model's context
            Assert.Equal(4, plan.Train.Examples.Count);
            Assert.Equal(2, plan.Val!.Examples.Count);
            var result = await FineTuning.RunAsync(plan);
            Assert.Contains("chat_template", File.ReadAllText(Path.Combine(result.FinalDir!, "tokenizer_config.json")));
            Assert.True(File.Exists(Path.Combine(result.FinalDir!, "generation_config.json")));
        }

        string train = tmp.WriteText("train.jsonl", Jsonl);
        string val = tmp.WriteText("val.jsonl", string.Join("\n", Jsonl.Split('\n')[..2]));
        using (var plan = FineTuning.Check(new FineTuningInputs { ModelDir = model, TrainFile = train, ValFile = val }, Options(tmp["file"])))
            await FineTuning.RunAsync(plan);

        Assert.Equal(Losses(tmp["file"]), Losses(tmp["memory"]));
        Assert.Equal(4 + 2, Losses(tmp["memory"]).Length); // every step logged, two evaluations
    }

    [Fact]
    public async Task ACheckpointWrittenBeforeOptionsPerJobResumesTheSameRun()
    {
        using var tmp = new Fixture.TempDir();
        string model = TinyModel(tmp);
        async Task Run(FineTuningOptions o)
        {
            using var plan = FineTuning.Check(new FineTuningInputs { ModelDir = model, Train = Dialogues, Validation = Dialogues[..2] }, o);
            await FineTuning.RunAsync(plan);
        }
        await Run(Options(tmp["whole"]) with { SaveSteps = 2 });
        await Run(Options(tmp["old"]) with { SaveSteps = 2 });

        // Make "old" a run stopped after checkpoint-2 by the version before options per job: its trainer state holds the
        // keys of both jobs (the pretraining ones at their defaults) and neither val_fraction nor train_on_prompt.
        Directory.Delete(tmp["old/final"], true);
        Directory.Delete(tmp["old/checkpoint-4"], true);
        string statePath = tmp["old/checkpoint-2/trainer_state.json"];
        var state = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(statePath))!.AsObject();
        var legacy = state["run_options"]!.DeepClone().AsObject();
        legacy.Remove("val_fraction");
        legacy.Remove("train_on_prompt");
        foreach (var key in new[] { "preset", "n_layer", "n_head", "n_embd", "n_positions", "vocab_size" }) legacy[key] = null;
        legacy["dropout"] = 0;
        legacy["init_from"] = null;
        state["run_options"] = legacy;
        state["options_hash"] = TrainingArguments.Hash(legacy);
        File.WriteAllText(statePath, state.ToJsonString());

        await Run(Options(tmp["old"]) with { SaveSteps = 2, ResumeFromCheckpoint = "latest" });
        Assert.Equal(File.ReadAllBytes(tmp["whole/final/model.safetensors"]), File.ReadAllBytes(tmp["old/final/model.safetensors"]));

        // Only a run with the same options: another learning rate is refused as before.
        Directory.Delete(tmp["old/final"], true);
        Directory.Delete(tmp["old/checkpoint-4"], true);
        File.WriteAllText(statePath, state.ToJsonString());
        var e = await Assert.ThrowsAsync<GptSharpException>(() => Run(Options(tmp["old"]) with { SaveSteps = 2, ResumeFromCheckpoint = "latest", LearningRate = 1e-4 }));
        Assert.Contains("trained with different options: learning_rate", e.Message);
    }

    [Fact]
    public async Task InMemoryConversationsTakeTheValidationSplitAndCallbacks()
    {
        using var tmp = new Fixture.TempDir();
        var evaluations = new List<int>();
        using var plan = FineTuning.Check(new FineTuningInputs { ModelDir = TinyModel(tmp), Train = Dialogues.Concat(Dialogues) },
            Options(tmp["run"]) with { ValFraction = 0.25 });
        Assert.Equal(2, plan.Val!.Examples.Count);
        Assert.Equal(6, plan.Train.Examples.Count);
        var result = await FineTuning.RunAsync(plan, callbacks: [new EvaluationHook(e => evaluations.Add(e.Step))]);
        Assert.Equal([2, 4], evaluations);
        Assert.Equal(4, result.Step);
    }

    sealed class EvaluationHook(Action<TrainingEvaluation> action) : TrainerCallback
    {
        public override void OnEvaluate(TrainerControl control, TrainingEvaluation evaluation) => action(evaluation);
    }

    [Fact]
    public void InMemoryConversationsAreCheckedLikeAFile()
    {
        using var tmp = new Fixture.TempDir();
        string model = TinyModel(tmp);
        Conversation[] bad = [Dialogues[0], new([new(TurnRole.User, "Hello?")])];
        var e = Assert.Throws<GptSharpException>(() => FineTuning.Check(new FineTuningInputs { ModelDir = model, Train = bad }, Options(tmp["run"])));
        Assert.Equal("train conversations:2: the conversation has no assistant turn; fine-tuning needs at least one reply to learn from", e.Message);

        Conversation[] twoUsers = [new([new(TurnRole.User, "Hi"), new(TurnRole.User, "Hello?"), new(TurnRole.Assistant, "Yes.")])];
        e = Assert.Throws<GptSharpException>(() => FineTuning.Check(new FineTuningInputs { ModelDir = model, Train = Dialogues, Validation = twoUsers }, Options(tmp["run"])));
        Assert.Equal("validation conversations:1: assistant turn missing after message 1 (user)", e.Message);

        e = Assert.Throws<GptSharpException>(() => FineTuning.Check(new FineTuningInputs { ModelDir = model, Train = Dialogues, TrainFile = "x.jsonl" }, Options(tmp["run"])));
        Assert.Contains("either Train (in memory) or TrainFile", e.Message);
        e = Assert.Throws<GptSharpException>(() => FineTuning.Check(new FineTuningInputs { ModelDir = model }, Options(tmp["run"])));
        Assert.Contains("needs training conversations", e.Message);
        e = Assert.Throws<GptSharpException>(() => FineTuning.Check(new FineTuningInputs { ModelDir = model, Train = Dialogues }, Options(tmp["run"]) with { BlockSize = 65 }));
        Assert.Contains("block_size (65) exceeds the model's n_positions (64)", e.Message);
        // The default length, 3 epochs of 4 examples in batches of 2, is 6 steps: warmup_steps is checked against it before any work.
        var epochs = FineTuningOptions.Load(null, [$"output_dir={tmp["run"]}", "per_device_train_batch_size=2", "val_fraction=0", "warmup_steps=7", "device=cpu"]);
        e = Assert.Throws<GptSharpException>(() => FineTuning.Check(new FineTuningInputs { ModelDir = model, Train = Dialogues }, epochs));
        Assert.Contains("warmup_steps must be in [0, max_steps = 6] (got 7; num_train_epochs = 3 makes 6 steps)", e.Message);
        Assert.False(Directory.Exists(tmp["run"]));
    }
}
