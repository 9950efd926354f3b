using GptSharp.Distillation;
using GptSharp.Tests.Training;
using GptSharp.Training;

namespace GptSharp.Tests.Distillation;

/// <summary>Distillation on the Trainer: exact resume (on-policy batches and dropout included) and the options it refuses to resume with.</summary>
[Collection(nameof(GlobalTorchRng))]
public class DistillerTests
{
    static DistillationOptions Options(string outputDir, params string[] more) => DistillationOptions.Load(null,
        [$"output_dir={outputDir}", "student_layers=2", "max_steps=6", "per_device_train_batch_size=2", "eval_steps=3", "eval_iters=1",
         "save_steps=3", "logging_steps=1", "device=cpu", "learning_rate=3e-3", .. more]);

    static async Task<TrainingResult> Run(string teacher, string data, DistillationOptions o, CancellationToken ct = default,
        IProgress<TrainingProgress>? progress = null)
    {
        using var plan = Distiller.Check(new DistillationInputs { TeacherDir = teacher, Data = data }, o);
        return await Distiller.RunAsync(plan, progress, ct);
    }

    static double[] Losses(string dir, string key) =>
        [.. MetricsLog.Read(Path.Combine(dir, MetricsLog.FileName)).Where(m => m[key] is not null).Select(m => m[key]!.GetValue<double>())];

    [Fact]
    public async Task ResumingMidDistillationIsExact()
    {
        using var tmp = new Fixture.TempDir();
        string teacher = TinyTeacher.Create(tmp, dropout: 0.1);
        string data = TinyTeacher.Dialogues(tmp);
        // On-policy batches, all three terms and dropout: every source of randomness must resume.
        string[] loss = ["lmbda=0.5", "max_new_tokens=6", "alpha_cos=0.5", "beta=0.5"];
        var whole = await Run(teacher, data, Options(tmp["whole"], loss));
        Assert.Equal(6, whole.Step);

        using var cts = new CancellationTokenSource();
        var first = await Run(teacher, data, Options(tmp["split"], loss), cts.Token, new ProgressRecorder { OnStep = p => { if (p.Step == 4) cts.Cancel(); } });
        Assert.True(first.Cancelled);
        Assert.Equal(4, first.Step);
        await Run(teacher, data, Options(tmp["split"], [.. loss, "resume_from_checkpoint=latest"]));

        Assert.Equal(6, Losses(tmp["whole"], "loss").Length);
        Assert.Equal(Losses(tmp["whole"], "loss"), Losses(tmp["split"], "loss"));
        Assert.Equal(Losses(tmp["whole"], "val_loss"), Losses(tmp["split"], "val_loss"));
        Assert.Equal(File.ReadAllBytes(tmp["whole/final/model.safetensors"]), File.ReadAllBytes(tmp["split/final/model.safetensors"]));
        Assert.Contains("chat_template", File.ReadAllText(tmp["whole/final/tokenizer_config.json"]));

        // Another loss is another run: resuming with it is refused, naming what changed.
        Directory.Delete(tmp["split/final"], true);
        var e = await Assert.ThrowsAsync<GptSharpException>(() => Run(teacher, data, Options(tmp["split"], [.. loss, "temperature=4", "resume_from_checkpoint=latest"])));
        Assert.Contains("trained with different options: temperature (2 → 4)", e.Message);
    }

    [Fact]
    public async Task AStudentConfigGivesAFreshStudentOfOtherWidths()
    {
        using var tmp = new Fixture.TempDir();
        string teacher = TinyTeacher.Create(tmp);
        File.WriteAllText(tmp["student.json"], """{"n_layer": 1, "n_head": 2, "n_embd": 16}""");
        var result = await Run(teacher, TinyTeacher.Dialogues(tmp), DistillationOptions.Load(null,
            [$"output_dir={tmp["run"]}", $"student_config={tmp["student.json"]}", "alpha_ce=1", "alpha_clm=0", "max_steps=2", "val_fraction=0", "device=cpu"]));
        Assert.Null(result.LastValLoss); // no validation split
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(tmp["run/final/config.json"]))!;
        Assert.Equal((1, 16, 64), (config["n_layer"]!.GetValue<int>(), config["n_embd"]!.GetValue<int>(), config["n_positions"]!.GetValue<int>()));
        var run = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(tmp["run/run.json"]))!;
        Assert.Equal(tmp["student.json"], run["student_config"]!.GetValue<string>());
        Assert.Equal(1.0, run["alpha_ce"]!.GetValue<double>());
        Assert.Equal("fp32", run["teacher_precision"]!.GetValue<string>());

        // alpha_cos compares hidden states: it needs the teacher's width.
        var e = Assert.Throws<GptSharpException>(() => Distiller.Check(new DistillationInputs { TeacherDir = teacher, Data = TinyTeacher.Dialogues(tmp) },
            DistillationOptions.Load(null, [$"output_dir={tmp["cos"]}", $"student_config={tmp["student.json"]}", "alpha_cos=1", "device=cpu"])));
        Assert.Contains("alpha_cos compares hidden states, which needs the same width: the student's n_embd is 16, the teacher's 32", e.Message);
        Assert.False(Directory.Exists(tmp["cos"]));
    }

    [Theory]
    [InlineData("bf16")]
    [InlineData("int8")]
    public async Task TheTeacherMayComputeInLowerPrecision(string precision)
    {
        using var tmp = new Fixture.TempDir();
        string teacher = TinyTeacher.Create(tmp);
        var result = await Run(teacher, TinyTeacher.Dialogues(tmp), Options(tmp["run"], $"teacher_precision={precision}", "max_steps=2", "save_steps=0"));
        Assert.Equal(2, result.Step);
        Assert.All(Losses(tmp["run"], "loss"), l => Assert.True(double.IsFinite(l) && l > 0));
    }

    [Fact]
    public void TheRecipesAreValid()
    {
        string configs = Path.Combine(AppContext.BaseDirectory, "samples", "configs");
        var teacher = PretrainingOptions.Load(Path.Combine(configs, "distill-teacher-pretrain.json"), ["output_dir=o", "data_dir=d"]);
        Assert.Equal((8, 128), (teacher.NLayer, teacher.NEmbd));
        var distill = DistillationOptions.Load(Path.Combine(configs, "distill.json"), ["output_dir=o", "student_layers=4"]);
        Assert.Equal((2.0, 0.5, 0.5, 0.0, 400), (distill.Temperature, distill.AlphaCe, distill.AlphaClm, distill.AlphaCos, distill.MaxSteps));
    }
}
