using System.Text.Json.Nodes;
using GptSharp.Checkpoints;
using GptSharp.Models;
using GptSharp.Tests.Distillation;
using GptSharp.Tokenization;

namespace GptSharp.Tests.Cli.Commands;

[Collection(nameof(GptSharp.Tests.Training.GlobalTorchRng))]
public class DistillCommandTests
{
    static readonly string[] Fast = ["--set", "max_steps=2", "per_device_train_batch_size=2", "eval_steps=2", "eval_iters=1", "save_steps=0", "device=cpu"];

    [Fact]
    public async Task DistilsDialoguesIntoAChatModelHalfTheTeachersDepth()
    {
        using var tmp = new Fixture.TempDir();
        string teacher = TinyTeacher.Create(tmp);
        var (code, output, err) = await CliRunner.Run(["distill", "--teacher", teacher, "--student-layers", "2", "--data", TinyTeacher.Dialogues(tmp),
            "--output", tmp["run"], .. Fast, "dropout=0.2"]);
        Assert.True(code == 0, err + output);
        Assert.Contains("student: ", output);
        Assert.Contains("from teacher layers [0, 3]", output);
        Assert.Contains("done: 2 steps", output);
        string final = tmp["run/final"];
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(final, "config.json")))!;
        Assert.Equal((2, 0.2), (config["n_layer"]!.GetValue<int>(), config["resid_pdrop"]!.GetValue<double>()));
        Assert.Contains("chat_template", File.ReadAllText(Path.Combine(final, "tokenizer_config.json")));
        Assert.True(File.Exists(Path.Combine(final, "generation_config.json")));
        Assert.True(File.Exists(tmp["run/metrics.jsonl"]));
        Assert.True(File.Exists(tmp["run/loss.png"]));

        // The student is a normal model directory: eval reads it.
        (code, output, err) = await CliRunner.Run("eval", "--model", final, "--data", TinyTeacher.Dialogues(tmp), "--max-new-tokens", "4", "--device", "cpu");
        Assert.True(code == 0, err + output);
        Assert.Contains("token F1", output);
    }

    [Fact]
    public async Task DistilsTextFromADataDirectoryMadeWithTheTeachersTokenizer()
    {
        using var tmp = new Fixture.TempDir();
        string teacher = TinyTeacher.Create(tmp);
        File.WriteAllText(tmp["corpus.txt"], string.Join("\n\n", Enumerable.Repeat(TinyTeacher.Text, 30)));
        var (code, output, err) = await CliRunner.Run("data", "prepare", "--tokenizer", teacher, "--input", tmp["corpus.txt"], "--output", tmp["data"],
            "--document-boundary", "blank-line");
        Assert.True(code == 0, err + output);
        (code, output, err) = await CliRunner.Run(["distill", "--teacher", teacher, "--student-layers", "1", "--data", tmp["data"], "--output", tmp["run"],
            .. Fast, "block_size=16", "teacher_precision=int8"]);
        Assert.True(code == 0, err + output);
        Assert.Contains("text: ", output);
        Assert.DoesNotContain("chat_template", File.ReadAllText(tmp["run/final/tokenizer_config.json"]));
        Assert.Equal(1, JsonNode.Parse(File.ReadAllText(tmp["run/final/config.json"]))!["n_layer"]!.GetValue<int>());

        // Data made by another tokenizer would give the teacher other tokens.
        string other = tmp["other-tok"];
        TinyTeacher.Tokenizer(" a different corpus entirely, with other merges").Save(other);
        (code, output, err) = await CliRunner.Run("data", "prepare", "--tokenizer", other, "--input", tmp["corpus.txt"], "--output", tmp["other-data"],
            "--document-boundary", "blank-line");
        Assert.True(code == 0, err + output);
        (code, _, err) = await CliRunner.Run(["distill", "--teacher", teacher, "--student-layers", "1", "--data", tmp["other-data"], "--output", tmp["bad"], .. Fast]);
        Assert.Equal(1, code);
        Assert.Contains("was prepared with another tokenizer", err);
        Assert.False(Directory.Exists(tmp["bad"]));
    }

    public static TheoryData<string[], string> BadOptions => new()
    {
        { ["--student-layers", "5"], "student_layers (5) exceeds the teacher's n_layer (4)" },
        { ["--set", "student_layer_indices=[0,4]"], "student_layer_indices [0, 4]: layer 4 is out of range; the teacher has 4 layers (0 to 3)" },
        { ["--set", "student_layer_indices=2,1"], "student_layer_indices must be strictly increasing (got [2, 1])" },
        { ["--student-layers", "2", "--set", "alpha_ce=0", "alpha_clm=0"], "alpha_ce, alpha_clm and alpha_cos are all 0" },
        { ["--student-layers", "2", "--set", "alpha_ce=-0.5"], "alpha_ce must be 0 or positive (got -0.5)" },
        { ["--student-layers", "2", "--set", "alpha_cos=-1"], "alpha_cos must be 0 or positive (got -1)" },
        { ["--student-layers", "2", "--set", "temperature=0"], "temperature must be positive (got 0)" },
        { ["--student-layers", "2", "--set", "temperature=-2"], "temperature must be positive (got -2)" },
        { ["--student-layers", "2", "--set", "beta=1.5"], "beta must be in [0, 1] (got 1.5)" },
        { ["--student-layers", "2", "--set", "lmbda=-0.1"], "lmbda must be in [0, 1] (got -0.1)" },
        { ["--student-layers", "2", "--set", "lmbda=2"], "lmbda must be in [0, 1] (got 2)" },
        { ["--student-layers", "2", "--set", "teacher_precision=fp8"], "teacher_precision must be one of: fp32, bf16, int8 (got 'fp8')" },
        { [], "the student is missing: give student_layers (--student-layers N)" },
        { ["--student-layers", "2", "--set", "student_layer_indices=[0,1]"], "student_layers, student_layer_indices and student_config contradict each other" },
        { ["--student-layers", "2", "--set", "n_layer=2"], "option 'n_layer' does not apply to distillation: it is an option of pretraining" },
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public async Task BadOptionsAreNamedAndNothingIsWritten(string[] args, string message)
    {
        using var tmp = new Fixture.TempDir();
        string teacher = TinyTeacher.Create(tmp);
        var (code, _, err) = await CliRunner.Run(["distill", "--teacher", teacher, "--data", TinyTeacher.Dialogues(tmp), "--output", tmp["run"], .. args]);
        Assert.Equal(1, code);
        Assert.Contains(message, err);
        Assert.False(Directory.Exists(tmp["run"]));
    }

    [Fact]
    public async Task AMissingTeacherOrAnotherTokenizerIsNamedAndNothingIsWritten()
    {
        using var tmp = new Fixture.TempDir();
        string data = TinyTeacher.Dialogues(tmp);
        var (code, _, err) = await CliRunner.Run("distill", "--teacher", tmp["nowhere"], "--student-layers", "2", "--data", data, "--output", tmp["run"]);
        Assert.Equal(1, code);
        Assert.Contains($"teacher {tmp["nowhere"]}: model directory not found", err);

        string teacher = TinyTeacher.Create(tmp);
        // A student model directory whose tokenizer is another one: its config.json sits next to other vocab files.
        var otherTok = TinyTeacher.Tokenizer(" other text gives other merges and other ids");
        using (var other = Gpt.Create(new GptConfig { VocabSize = otherTok.VocabSize, BlockSize = 64, NLayer = 1, NHead = 2, NEmbd = 16 }))
            new ModelDirectory(other, otherTok).Save(tmp["other-student"]);
        (code, _, err) = await CliRunner.Run("distill", "--teacher", teacher, "--student-config", tmp["other-student/config.json"], "--data", data, "--output", tmp["run"]);
        Assert.Equal(1, code);
        Assert.Contains("is not the teacher's", err);
        Assert.Contains("teacher and student must share the tokenizer (same vocabulary and chat tokens)", err);

        File.WriteAllText(tmp["wide.json"], """{"n_layer": 1, "vocab_size": 1000}""");
        (code, _, err) = await CliRunner.Run("distill", "--teacher", teacher, "--student-config", tmp["wide.json"], "--data", data, "--output", tmp["run"]);
        Assert.Equal(1, code);
        Assert.Contains("vocab_size 1000 differs from the teacher's", err);

        File.WriteAllText(tmp["deep.json"], """{"n_layer": 6, "n_embd": 16}""");
        (code, _, err) = await CliRunner.Run("distill", "--teacher", teacher, "--student-config", tmp["deep.json"], "--data", data, "--output", tmp["run"]);
        Assert.Equal(1, code);
        Assert.Contains("n_layer 6 is deeper than the teacher's 4", err);

        // A base model has no chat tokens in its embedding: it cannot score dialogues.
        var tok = TinyTeacher.Tokenizer();
        using (var small = Gpt.Create(new GptConfig { VocabSize = tok.VocabSize - SpecialTokens.ChatRoles.Count, BlockSize = 64, NLayer = 2, NHead = 2, NEmbd = 16 }))
            new ModelDirectory(small, tok).Save(tmp["base"]);
        (code, _, err) = await CliRunner.Run("distill", "--teacher", tmp["base"], "--student-layers", "1", "--data", data, "--output", tmp["run"]);
        Assert.Equal(1, code);
        Assert.Contains("is not a chat model", err);
        Assert.False(Directory.Exists(tmp["run"]));
    }
}
