using GptSharp.Tests.Data;
using GptSharp.Training;

namespace GptSharp.Tests.Training;

public class TrainingOptionsTests
{
    [Fact]
    public void ConfigFileThenOverrides()
    {
        using var dir = new Fixture.TempDir();
        string config = dir.WriteText("c.json", """
            {
              // comments are fine
              "output_dir": "out", "data_dir": "data",
              "max_steps": 50, "learning_rate": 1e-3, "save_total_limit": 4, "preset": "tiny"
            }
            """);
        var o = PretrainingOptions.Load(config, ["max_steps=60", "bf16=true", "save_total_limit=null", "adam_beta2=0.99", "preset=small", "seed=-3"]);
        Assert.Equal(60, o.MaxSteps);
        Assert.Equal(1e-3, o.LearningRate);
        Assert.True(o.Bf16);
        Assert.Null(o.SaveTotalLimit);
        Assert.Equal(0.99, o.AdamBeta2);
        Assert.Equal("small", o.Preset);
        Assert.Equal(-3, o.Seed);
        Assert.Equal(8, o.PerDeviceTrainBatchSize); // default kept
    }

    [Fact]
    public void JsonNamesAreHuggingFaceSnakeCase()
    {
        string json = new PretrainingOptions().ToJson();
        foreach (var key in new[] { "output_dir", "overwrite_output_dir", "max_steps", "per_device_train_batch_size", "gradient_accumulation_steps",
                     "learning_rate", "weight_decay", "adam_beta1", "adam_beta2", "adam_epsilon", "max_grad_norm", "lr_scheduler_type",
                     "warmup_steps", "min_lr_ratio", "logging_steps", "eval_steps", "eval_iters", "save_steps", "save_total_limit", "seed",
                     "bf16", "block_size", "device", "preset", "n_layer", "n_head", "n_embd", "n_positions", "vocab_size", "dropout",
                     "init_from", "data_dir", "resume_from_checkpoint", "optim", "sgd_momentum", "sgd_dampening", "sgd_nesterov",
                     "rmsprop_alpha", "rmsprop_momentum", "rmsprop_epsilon", "warmup_ratio", "step_size", "gamma", "num_train_epochs",
                     "load_best_model_at_end", "early_stopping_patience" })
            Assert.Contains($"\"{key}\":", json);
    }

    [Fact]
    public void InternalStateIsNoOption()
    {
        // length_given is derived (was max_steps or num_train_epochs given?), not something to set.
        var e = Assert.Throws<GptSharpException>(() => PretrainingOptions.Load(null, ["output_dir=o", "length_given=true"]));
        Assert.Contains("unknown option 'length_given'", e.Message);
        Assert.DoesNotContain("length_given", Assert.Throws<GptSharpException>(() => PretrainingOptions.Load(null, ["nope=1"])).Message);
        Assert.DoesNotContain("length_given", new PretrainingOptions { OutputDir = "o" }.ToJson());
    }

    [Fact]
    public void UnknownKeysListTheValidOnes()
    {
        using var dir = new Fixture.TempDir();
        string config = dir.WriteText("c.json", """{ "output_dir": "o", "data_dir": "d", "lerning_rate": 0.1 }""");
        var e = Assert.Throws<GptSharpException>(() => PretrainingOptions.Load(config));
        Assert.Contains("c.json", e.Message);
        Assert.Contains("unknown option 'lerning_rate'", e.Message);
        Assert.Contains("did you mean learning_rate", e.Message);
        Assert.Contains("per_device_train_batch_size", e.Message);

        e = Assert.Throws<GptSharpException>(() => PretrainingOptions.Load(null, ["batch_size=3"]));
        Assert.Contains("unknown option 'batch_size'", e.Message);
        Assert.Contains("valid keys:", e.Message);
    }

    [Fact]
    public void BadValuesNameTheKey()
    {
        var e = Assert.Throws<GptSharpException>(() => PretrainingOptions.Load(null, ["max_steps=abc"]));
        Assert.Equal("--set max_steps=abc: expected an integer", e.Message);
        e = Assert.Throws<GptSharpException>(() => PretrainingOptions.Load(null, ["bf16=yes"]));
        Assert.Contains("true or false", e.Message);
        e = Assert.Throws<GptSharpException>(() => PretrainingOptions.Load(null, ["nokey"]));
        Assert.Contains("key=value", e.Message);

        using var dir = new Fixture.TempDir();
        string config = dir.WriteText("c.json", """{ "max_steps": "many" }""");
        e = Assert.Throws<GptSharpException>(() => PretrainingOptions.Load(config));
        Assert.Contains("max_steps: expected an integer", e.Message);
        string broken = dir.WriteText("b.json", "{\n  \"max_steps\": 3,,\n}");
        e = Assert.Throws<GptSharpException>(() => PretrainingOptions.Load(broken));
        Assert.Contains("b.json:2", e.Message);
    }

    [Fact]
    public void ValidationListsEveryProblemWithItsRange()
    {
        var e = Assert.Throws<GptSharpException>(() => PretrainingOptions.Load(null,
            ["output_dir=o", "data_dir=d", "per_device_train_batch_size=0", "learning_rate=-0.001", "adam_beta1=1", "dropout=1.5", "device=tpu"]));
        Assert.Contains("per_device_train_batch_size must be at least 1 (got 0)", e.Message);
        Assert.Contains("learning_rate must be in (0, 1] (got -0.001)", e.Message);
        Assert.Contains("adam_beta1 must be in [0, 1) (got 1)", e.Message);
        Assert.Contains("dropout must be in [0, 1) (got 1.5)", e.Message);
        Assert.Contains("device must be auto, cpu, cuda or cuda:N (got 'tpu')", e.Message);

        e = Assert.Throws<GptSharpException>(() => PretrainingOptions.Load(null, []));
        Assert.Contains("output_dir is required", e.Message);
        e = Assert.Throws<GptSharpException>(() => PretrainingOptions.Load(null, ["output_dir=o", "data_dir=d", "init_from=m", "n_layer=2"]));
        Assert.Contains("init_from", e.Message);
    }

    [Fact]
    public void ModelShapeIsCheckedAgainstBlockSizeAndData()
    {
        using var corpus = new TinyCorpus();
        var o = corpus.Options("x");
        var plan = Pretraining.Check(o);
        Assert.Equal(257, plan.Model.VocabSize);
        Assert.Equal(32, plan.Model.BlockSize); // explicit sizes: n_positions defaults to block_size

        var e = Assert.Throws<GptSharpException>(() => Pretraining.Check(o with { NLayer = null, NHead = null, NEmbd = null, Preset = "tiny", BlockSize = 512 }));
        Assert.Contains("block_size (512) exceeds the model's n_positions (256)", e.Message);
        e = Assert.Throws<GptSharpException>(() => Pretraining.Check(o with { VocabSize = 100 }));
        Assert.Contains("vocab_size (100)", e.Message);
        e = Assert.Throws<GptSharpException>(() => Pretraining.Check(o with { NHead = 3 }));
        Assert.Contains("n_head", e.Message);
        e = Assert.Throws<GptSharpException>(() => Pretraining.Check(o with { DataDir = corpus.Dir["nowhere"] }));
        Assert.Contains("data prepare", e.Message);
    }

    [Fact]
    public void TheSampleConfigIsValid()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "samples", "configs", "pretrain-tiny.json");
        var o = PretrainingOptions.Load(path);
        Assert.Equal("tiny", o.Preset);
    }

    static GptSharpException Invalid(params string[] overrides) =>
        Assert.Throws<GptSharpException>(() => PretrainingOptions.Load(null, ["output_dir=o", .. overrides]));

    [Fact]
    public void ContradictionsAreClearErrors()
    {
        Assert.Contains("max_steps and num_train_epochs contradict each other", Invalid("max_steps=100", "num_train_epochs=2").Message);
        Assert.Contains("warmup_steps and warmup_ratio contradict each other", Invalid("warmup_steps=10", "warmup_ratio=0.1").Message);
        Assert.Contains("sgd_nesterov requires sgd_momentum > 0 (got 0)", Invalid("optim=sgd", "sgd_nesterov=true").Message);
        Assert.Contains("sgd_nesterov requires sgd_dampening = 0", Invalid("optim=sgd", "sgd_nesterov=true", "sgd_momentum=0.9", "sgd_dampening=0.1").Message);
        Assert.Contains("save_total_limit must be null (keep all) or at least 1 (got 0)", Invalid("save_total_limit=0").Message);
        Assert.Contains("early_stopping_patience counts evaluations: it needs eval_steps > 0", Invalid("early_stopping_patience=3", "eval_steps=0").Message);
        Assert.Contains("load_best_model_at_end needs eval_steps > 0 and save_steps a positive multiple of it",
            Invalid("load_best_model_at_end=true", "eval_steps=100", "save_steps=150").Message);
        Assert.Contains("lr_scheduler_type step needs step_size", Invalid("lr_scheduler_type=step").Message);
        Assert.Contains("optim must be one of: adamw, adam, sgd, rmsprop (got 'lion')", Invalid("optim=lion").Message);
        Assert.Contains("lr_scheduler_type must be one of: constant, constant_with_warmup, step, exponential, linear, cosine", Invalid("lr_scheduler_type=wavy").Message);
        Assert.Contains("gamma must be in (0, 1] (got 0)", Invalid("gamma=0").Message);
        Assert.Contains("num_train_epochs must be positive (got -1)", Invalid("num_train_epochs=-1").Message);
        Assert.Contains("rmsprop_alpha must be in [0, 1] (got 1.5)", Invalid("rmsprop_alpha=1.5").Message);

        // Valid combinations pass.
        var o = PretrainingOptions.Load(null, ["output_dir=o", "num_train_epochs=2.5", "warmup_ratio=0.1", "optim=sgd", "sgd_momentum=0.9", "sgd_nesterov=true",
            "lr_scheduler_type=step", "step_size=50", "gamma=0.5", "load_best_model_at_end=true", "eval_steps=50", "save_steps=100", "early_stopping_patience=2"]);
        Assert.Equal(2.5, o.NumTrainEpochs);
        Assert.Equal(0, o.MaxSteps); // resolved from the data
        Assert.Equal(TrainingArguments.DefaultMaxSteps, PretrainingOptions.Load(null, ["output_dir=o"]).MaxSteps);
    }

    [Fact]
    public void EpochsResolveToStepsFromTheSourceSize()
    {
        var o = new PretrainingOptions { OutputDir = "o", NumTrainEpochs = 2.5, GradientAccumulationSteps = 4 };
        Assert.Equal(32, o.ResolveMaxSteps(_ => 50)); // ⌈2.5 · 50 / 4⌉ = ⌈31.25⌉
        Assert.Equal(1, (o with { NumTrainEpochs = 0.01 }).ResolveMaxSteps(_ => 50));
        var e = Assert.Throws<GptSharpException>(() => o.ResolveMaxSteps(_ => null));
        Assert.Contains("give max_steps instead", e.Message);
        Assert.Equal(20, new PretrainingOptions { MaxSteps = 20 }.ResolveMaxSteps(_ => null));
        // run.json round-trips: an epoch run writes no max_steps.
        Assert.DoesNotContain("\"max_steps\"", o.ToJson());
        Assert.Equal(o, System.Text.Json.JsonSerializer.Deserialize<PretrainingOptions>(o.ToJson(), TrainingArguments.Json));
    }

    [Fact]
    public void RunJsonKeepsItsKeysInTheirOrder()
    {
        // Checkpoints hash the trajectory options as written: a new order would refuse to resume every earlier run.
        string[] expected =
        [
            "output_dir", "overwrite_output_dir", "resume_from_checkpoint", "data_dir", "max_steps", "num_train_epochs",
            "per_device_train_batch_size", "gradient_accumulation_steps", "learning_rate", "optim", "weight_decay", "adam_beta1",
            "adam_beta2", "adam_epsilon", "sgd_momentum", "sgd_dampening", "sgd_nesterov", "rmsprop_alpha", "rmsprop_momentum",
            "rmsprop_epsilon", "max_grad_norm", "lr_scheduler_type", "warmup_steps", "warmup_ratio", "min_lr_ratio", "step_size",
            "gamma", "logging_steps", "eval_steps", "eval_iters", "save_steps", "save_total_limit", "load_best_model_at_end",
            "early_stopping_patience", "seed", "bf16", "block_size", "device", "preset", "n_layer", "n_head", "n_embd",
            "n_positions", "vocab_size", "dropout", "init_from",
        ];
        var keys = System.Text.Json.Nodes.JsonNode.Parse(new PretrainingOptions { OutputDir = "o" }.ToJson())!.AsObject().Select(kv => kv.Key);
        Assert.Equal(expected, keys);
        // Through the base type too (the Trainer holds TrainingArguments).
        TrainingArguments asBase = new PretrainingOptions { OutputDir = "o" };
        Assert.Equal(expected, System.Text.Json.Nodes.JsonNode.Parse(asBase.ToJson())!.AsObject().Select(kv => kv.Key));

        var fineTuning = System.Text.Json.Nodes.JsonNode.Parse(new FineTuningOptions { OutputDir = "o", BlockSize = 64 }.ToJson())!.AsObject();
        Assert.Equal(64, fineTuning["block_size"]!.GetValue<int>());
        Assert.Contains("val_fraction", fineTuning.Select(kv => kv.Key));
        Assert.Contains("train_on_prompt", fineTuning.Select(kv => kv.Key));
        Assert.DoesNotContain("n_layer", fineTuning.Select(kv => kv.Key));
    }

    [Fact]
    public void AKeyOfAnotherJobIsAnErrorNamingTheKeyAndTheJob()
    {
        foreach (var key in new[] { "n_layer=2", "dropout=0", "data_dir=d", "preset=tiny", "init_from=m", "vocab_size=300" })
        {
            var e = Assert.Throws<GptSharpException>(() => FineTuningOptions.Load(null, ["output_dir=o", key]));
            Assert.Contains($"option '{key[..key.IndexOf('=')]}' does not apply to fine-tuning: it is an option of pretraining", e.Message);
        }
        var p = Assert.Throws<GptSharpException>(() => PretrainingOptions.Load(null, ["output_dir=o", "val_fraction=0.2"]));
        Assert.Contains("option 'val_fraction' does not apply to pretraining: it is an option of fine-tuning", p.Message);
        p = Assert.Throws<GptSharpException>(() => PretrainingOptions.Load(null, ["output_dir=o", "train_on_prompt=true"]));
        Assert.Contains("option 'train_on_prompt' does not apply to pretraining", p.Message);
        // Shared-only options take neither job's keys.
        Assert.Contains("option 'block_size' does not apply to training: it is an option of pretraining and fine-tuning",
            Assert.Throws<GptSharpException>(() => TrainingArguments.Load(null, ["output_dir=o", "block_size=8"])).Message);

        // In a config file, the message names the file; misspellings still get suggestions.
        using var dir = new Fixture.TempDir();
        string config = dir.WriteText("ft.json", """{ "output_dir": "o", "n_embd": 64 }""");
        var f = Assert.Throws<GptSharpException>(() => FineTuningOptions.Load(config));
        Assert.Contains("ft.json: option 'n_embd' does not apply to fine-tuning", f.Message);
        f = Assert.Throws<GptSharpException>(() => FineTuningOptions.Load(null, ["output_dir=o", "val_fracton=0.2"]));
        Assert.Contains("unknown option 'val_fracton' (did you mean val_fraction?)", f.Message);

        var ok = FineTuningOptions.Load(null, ["output_dir=o", "val_fraction=0.2", "train_on_prompt=true", "learning_rate=1e-4"]);
        Assert.Equal((0.2, true, 1e-4, (int?)null), (ok.ValFraction, ok.TrainOnPrompt, ok.LearningRate, ok.BlockSize));
        Assert.Contains("val_fraction must be in [0, 1) (got 1)",
            Assert.Throws<GptSharpException>(() => FineTuningOptions.Load(null, ["output_dir=o", "val_fraction=1"])).Message);
    }

    [Fact]
    public void FineTuningsBlockSizeFitsTheModelUnlessGiven()
    {
        var o = new FineTuningOptions { OutputDir = "o" };
        Assert.Equal(128, o.ResolveBlockSize(128));                          // a short context: all of it
        Assert.Equal(FineTuningOptions.DefaultBlockSize, o.ResolveBlockSize(1024)); // a long one: the default window
        Assert.Equal(512, (o with { BlockSize = 512 }).ResolveBlockSize(1024));
        var e = Assert.Throws<GptSharpException>(() => (o with { BlockSize = 300 }).ResolveBlockSize(256));
        Assert.Contains("block_size (300) exceeds the model's n_positions (256)", e.Message);
    }

    [Fact]
    public void WarmupIsCheckedAgainstTheResolvedLength()
    {
        // max_steps known: at load; num_train_epochs: once the data's size gives the length.
        Assert.Contains("warmup_steps must be in [0, max_steps = 10] (got 20)", Invalid("max_steps=10", "warmup_steps=20").Message);
        var o = PretrainingOptions.Load(null, ["output_dir=o", "num_train_epochs=1", "warmup_steps=20"]);
        var e = Assert.Throws<GptSharpException>(() => o.ResolveMaxSteps(_ => 10));
        Assert.Equal("invalid option: warmup_steps must be in [0, max_steps = 10] (got 20; num_train_epochs = 1 makes 10 steps)", e.Message);
        Assert.Equal(30, o.ResolveMaxSteps(_ => 30));
    }

    [Fact]
    public void TheQuickstartRecipesAreValid()
    {
        string configs = Path.Combine(AppContext.BaseDirectory, "samples", "configs");
        var pretrain = PretrainingOptions.Load(Path.Combine(configs, "quickstart-pretrain.json"), ["output_dir=o", "data_dir=d"]);
        Assert.Equal((4, 128, 2e-3), (pretrain.NLayer, pretrain.BlockSize, pretrain.LearningRate));
        var finetune = FineTuningOptions.Load(Path.Combine(configs, "quickstart-finetune.json"), ["output_dir=o"]);
        Assert.Equal((0.05, 1e-3, (int?)null), (finetune.ValFraction, finetune.LearningRate, finetune.BlockSize));
    }
}
