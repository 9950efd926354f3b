using System.Text.Json.Nodes;
using GptSharp.Models;
using GptSharp.Tokenization;
using GptSharp.Checkpoints;
using GptSharp.Tests.IO;
using GptSharp.Tests.Training;

namespace GptSharp.Tests.Cli.Commands;

[Collection(nameof(GptSharp.Tests.Training.GlobalTorchRng))]
public class FinetuneEvalCommandTests
{
    static readonly string[] Pairs =
    [
        """{"input": "Where is order 123?", "output": "Order 123 has shipped."}""",
        """{"input": "Where is order 456?", "output": "Order 456 has shipped.", "system": "Be brief."}""",
        """{"input": "我的订单到了吗？", "output": "您的订单已经发货。"}""",
        """{"input": "Can I return my mug?", "output": "Yes, within 30 days."}""",
    ];

    internal static string TinyModel(Fixture.TempDir tmp, double dropout = 0)
    {
        var tok = new BpeTrainer(new BpeTrainerOptions { VocabSize = 400, MinPairFrequency = 1 })
            .Train(["Where is order 123? Order 123 has shipped. Can I return my mug? Yes, within 30 days.", "我的订单到了吗？您的订单已经发货。"]);
        using var model = Gpt.Create(new GptConfig { VocabSize = tok.VocabSize, BlockSize = 64, NLayer = 1, NHead = 2, NEmbd = 32, Dropout = dropout });
        new ModelDirectory(model, tok).Save(tmp["base"]);
        return tmp["base"];
    }

    [Theory]
    [InlineData("pairs.jsonl")]
    [InlineData("pairs.json")]
    [InlineData("messages.jsonl")]
    [InlineData("transcript.txt")]
    public async Task FinetunesAndEvaluatesEveryDialogueFormat(string file)
    {
        using var tmp = new Fixture.TempDir();
        string model = TinyModel(tmp);
        File.WriteAllText(tmp[file], file switch
        {
            "pairs.jsonl" => string.Join("\n", Pairs),
            "pairs.json" => "[" + string.Join(",\n", Pairs) + "]",
            "messages.jsonl" => """
                {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Where is order 123?"}, {"role": "assistant", "content": "Shipped."}, {"role": "user", "content": "Thanks!"}, {"role": "assistant", "content": "You are welcome."}]}
                {"messages": [{"role": "user", "content": "Can I return my mug?"}, {"role": "assistant", "content": "Yes, within 30 days."}]}
                """,
            _ => "<user> Where is order 123?\n<bot> Order 123 has shipped.\n\n<user> Can I return my mug?\n<bot> Yes, within 30 days.\n",
        });

        var (code, output, err) = await CliRunner.Run("finetune", "--model", model, "--data", tmp[file], "--val-data", tmp[file],
            "--output", tmp["run"], "--set", "max_steps=3", "per_device_train_batch_size=2", "eval_steps=3", "save_steps=3", "logging_steps=1", "device=cpu");
        Assert.True(code == 0, err + output);
        string final = Path.Combine(tmp["run"], "final");
        Assert.Contains("chat_template", File.ReadAllText(Path.Combine(final, "tokenizer_config.json")));
        Assert.True(File.Exists(Path.Combine(final, "generation_config.json")));

        (code, output, err) = await CliRunner.Run("eval", "--model", final, "--data", tmp[file], "--output", tmp["report.json"], "--max-new-tokens", "8");
        Assert.True(code == 0, err + output);
        foreach (var metric in new[] { "loss", "perplexity", "token accuracy", "exact match", "token F1", "BLEU" }) Assert.Contains(metric, output);
        var report = JsonNode.Parse(File.ReadAllText(tmp["report.json"]))!;
        Assert.InRange(report["f1"]!.GetValue<double>(), 0, 1);
        Assert.True(report["loss"]!.GetValue<double>() > 0);
    }

    /// <summary>Single exchanges longer than a small block: each is cut, never silently.</summary>
    static string LongExchanges(Fixture.TempDir tmp)
    {
        string longText = string.Join(' ', Enumerable.Repeat("Order 123 has shipped.", 30));
        File.WriteAllText(tmp["long.jsonl"], string.Join("\n",
            $$"""{"input": "Where is order 123?", "output": "{{longText}}"}""",
            $$"""{"input": "{{longText}}", "output": "Yes, within 30 days."}""",
            Pairs[3]));
        return tmp["long.jsonl"];
    }

    [Fact]
    public async Task FinetuneReportsSingleExchangesCutToFitTheBlock()
    {
        using var tmp = new Fixture.TempDir();
        string model = TinyModel(tmp);
        string data = LongExchanges(tmp);
        var (code, output, err) = await CliRunner.Run("finetune", "--model", model, "--data", data, "--val-data", data, "--output", tmp["run"],
            "--set", "max_steps=1", "block_size=32", "eval_steps=0", "save_steps=0", "device=cpu");
        Assert.True(code == 0, err + output);
        // The training file and the validation file each say what was cut.
        var notes = output.Split('\n').Where(l => l.Contains("conversations truncated to fit block_size 32: 0 dropped oldest exchanges (0 exchanges), 2 cut single exchanges;")).ToList();
        Assert.Equal(2, notes.Count);
        Assert.All(notes, n => Assert.Matches(@"; \d+ assistant tokens of \d+ lost \(\d+\.\d %\)", n));
    }

    [Fact]
    public async Task EvalReportsConversationsTruncatedToFitTheContext()
    {
        using var tmp = new Fixture.TempDir();
        string model = TinyModel(tmp);
        var (code, output, err) = await CliRunner.Run("eval", "--model", model, "--data", LongExchanges(tmp), "--max-new-tokens", "4",
            "--device", "cpu", "--output", tmp["r.json"]);
        Assert.True(code == 0, err + output);
        Assert.Contains("note: 2 conversations truncated to fit block_size 64: 0 dropped oldest exchanges (0 exchanges), 2 cut single exchanges;", err);
        Assert.Contains("note: 1 prompt (the turns before the reply) cut to their last 60 tokens", err);
        var notes = JsonNode.Parse(File.ReadAllText(tmp["r.json"]))!["notes"]!.AsArray();
        Assert.Equal(2, notes.Count);
    }

    [Fact]
    public async Task MalformedDialoguesFailBeforeAnyWork()
    {
        using var tmp = new Fixture.TempDir();
        string model = TinyModel(tmp);
        File.WriteAllText(tmp["bad.jsonl"], Pairs[0] + "\n{\"input\": \"no reply\"}\n");
        var (code, _, err) = await CliRunner.Run("finetune", "--model", model, "--data", tmp["bad.jsonl"], "--output", tmp["run"], "--set", "max_steps=2");
        Assert.Equal(1, code);
        Assert.Contains("bad.jsonl:2", err);
        Assert.False(Directory.Exists(tmp["run"]));
    }

    [Fact]
    public async Task ContradictoryOptionsAreRejected()
    {
        using var tmp = new Fixture.TempDir();
        string model = TinyModel(tmp);
        File.WriteAllText(tmp["d.jsonl"], string.Join("\n", Pairs));
        var (code, _, err) = await CliRunner.Run("finetune", "--model", model, "--data", tmp["d.jsonl"], "--output", tmp["run"],
            "--set", "max_steps=2", "num_train_epochs=1");
        Assert.Equal(1, code);
        Assert.Contains("contradict", err);
    }

    [Theory]
    [InlineData("n_layer=2")]
    [InlineData("dropout=0")]
    public async Task PretrainingKeysAreRejected(string assignment)
    {
        using var tmp = new Fixture.TempDir();
        string model = TinyModel(tmp);
        File.WriteAllText(tmp["d.jsonl"], string.Join("\n", Pairs));
        var (code, _, err) = await CliRunner.Run("finetune", "--model", model, "--data", tmp["d.jsonl"], "--output", tmp["run"],
            "--set", "max_steps=2", assignment);
        Assert.Equal(1, code);
        Assert.Contains($"option '{assignment[..assignment.IndexOf('=')]}' does not apply to fine-tuning", err);
        Assert.False(Directory.Exists(tmp["run"]));
    }

    [Fact]
    public async Task EvaluatesPlainText()
    {
        using var tmp = new Fixture.TempDir();
        string model = TinyModel(tmp);
        File.WriteAllText(tmp["t.txt"], "Where is order 123? Order 123 has shipped. Can I return my mug? Yes, within 30 days.");
        var (code, output, err) = await CliRunner.Run("eval", "--model", model, "--data", tmp["t.txt"], "--text", "--output", tmp["r.json"]);
        Assert.True(code == 0, err + output);
        var report = JsonNode.Parse(File.ReadAllText(tmp["r.json"]))!;
        Assert.Equal(Math.Exp(report["loss"]!.GetValue<double>()), report["perplexity"]!.GetValue<double>(), 6);
        File.WriteAllBytes(tmp["bad.txt"], [0x61, 0xff, 0x62]);
        (code, _, err) = await CliRunner.Run("eval", "--model", model, "--data", tmp["bad.txt"], "--text");
        Assert.Equal(1, code);
        Assert.Contains($"{tmp["bad.txt"]}:1: invalid UTF-8 (at byte 1 of the line)", err);
    }

    [Fact]
    public async Task FinetuneRunsThreeEpochsByDefault()
    {
        using var tmp = new Fixture.TempDir();
        string model = TinyModel(tmp);
        File.WriteAllText(tmp["d.jsonl"], string.Join("\n", Pairs));
        var (code, output, err) = await CliRunner.Run("finetune", "--model", model, "--data", tmp["d.jsonl"], "--val-fraction", "0",
            "--output", tmp["run"], "--set", "per_device_train_batch_size=2", "eval_steps=0", "save_steps=0", "device=cpu");
        Assert.True(code == 0, err + output);
        Assert.Contains("done: 6 steps", output); // 4 conversations, batches of 2, 3 epochs
    }

    [Fact]
    public async Task FinetuneReplacesAPreviousRunOnlyWithOverwriteAndNeverTheModelItStartsFrom()
    {
        using var tmp = new Fixture.TempDir();
        string model = TinyModel(tmp);
        File.WriteAllLines(tmp["pairs.jsonl"], Pairs);
        string[] args = ["finetune", "--model", model, "--data", tmp["pairs.jsonl"], "--val-fraction", "0", "--output", tmp["run"],
            "--set", "max_steps=2", "per_device_train_batch_size=2", "device=cpu"];
        var (code, output, err) = await CliRunner.Run(args);
        Assert.True(code == 0, err + output);

        (code, output, err) = await CliRunner.Run(args);
        Assert.Equal(1, code);
        Assert.Contains("already holds a training run; pass --set resume_from_checkpoint=latest to continue it, or --overwrite", err);
        Assert.DoesNotContain("model:", output);
        (code, output, err) = await CliRunner.Run([.. args, "--overwrite"]);
        Assert.True(code == 0, err + output);

        string final = Path.Combine(tmp["run"], "final");
        (code, _, err) = await CliRunner.Run(["finetune", "--model", final, .. args[3..], "--overwrite"]);
        Assert.Equal(1, code);
        Assert.Contains($"holds an input of this command ({final})", err);
        Assert.True(File.Exists(Path.Combine(final, "model.safetensors")));
    }

    [Fact]
    public async Task EvalAndScoreNameAnUnwritableOutputBeforeAnyWork()
    {
        using var tmp = new Fixture.TempDir();
        string model = TinyModel(tmp);
        File.WriteAllLines(tmp["pairs.jsonl"], Pairs);
        string report = Path.Combine(GptSharp.Tests.IO.Unwritable.Directory(tmp), "report.json");
        var (code, output, err) = await CliRunner.Run("eval", "--model", model, "--data", tmp["pairs.jsonl"], "--output", report, "--max-new-tokens", "4");
        Assert.Equal(1, code);
        Assert.StartsWith($"error: {report}: cannot write there", err);
        Assert.Equal("", output); // no evaluation ran

        File.WriteAllText(tmp["ids.jsonl"], "{\"ids\": [1, 2, 3]}\n");
        string scored = Path.Combine(GptSharp.Tests.IO.Unwritable.UnderAFile(tmp), "scored.jsonl");
        (code, output, err) = await CliRunner.Run("score", "--model", model, "--input", tmp["ids.jsonl"], "--output", scored);
        Assert.Equal(1, code);
        Assert.StartsWith($"error: {scored}: cannot write there", err);
        Assert.Equal("", output);
    }
}
