using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using GptSharp.Cli.Progress;
using GptSharp.Evaluation;
using GptSharp.Inference;
using GptSharp.Tokenization;
using GptSharp.Training;
using GptSharp.Checkpoints;
using GptSharp.IO;
using GptSharp.Data.Dialogues;
using GptSharp.Data.Shards;

namespace GptSharp.Cli.Commands;

/// <summary>
/// `gptsharp quickstart`: the whole life of a model in a few minutes on the bundled sample corpus — train a BPE tokenizer,
/// prepare token shards, pretrain a small GPT, fine-tune it on the bundled dialogues and evaluate it on held-out
/// questions (or, with --finetune-steps 0, continue a few prompts with the pretrained model). The hyperparameters are
/// the recipes samples/configs/quickstart-pretrain.json and quickstart-finetune.json.
/// </summary>
static class QuickstartCommand
{
    static readonly string[] Prompts =
    [
        "Customer: Hi, I want to check the status of my order",
        "Customer: My rain jacket arrived broken.",
        "Customer: How long does shipping to",
        "客户：我想查询我的订单状态",
    ];

    public static Command Create()
    {
        var output = new Option<string>("--output") { Description = "Folder for the run (tokenizer, data, checkpoints, final model).", DefaultValueFactory = _ => "quickstart-run" };
        var steps = new Option<int>("--max-steps") { Description = "Training steps (the default takes about 2 minutes on 2 cores).", DefaultValueFactory = _ => 1000 };
        var finetuneSteps = new Option<int>("--finetune-steps") { Description = "Fine-tuning steps on the bundled dialogues (0 skips fine-tuning).", DefaultValueFactory = _ => 400 };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto.", DefaultValueFactory = _ => "auto" };
        var corpus = new Option<string[]>("--input") { Description = "Text files to learn from instead of the bundled sample (blank lines separate documents)." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Use an --output folder that holds other files (its tokenizer/, data/, model/ and chat/ are replaced)." };
        var cmd = new Command("quickstart", "Train a tokenizer and a small GPT on the bundled support conversations, fine-tune it on dialogues, then let it answer held-out questions.")
            { output, steps, finetuneSteps, device, corpus, overwrite };
        cmd.SetAction(async (p, ct) =>
        {
            var w = p.InvocationConfiguration.Output;
            string run = Path.GetFullPath(p.GetValue(output)!);
            string[] inputs = p.GetValue(corpus) is { Length: > 0 } given ? given : [SampleCorpus()];
            CheckRunFolder(p.GetValue(output)!, run, p.GetValue(overwrite), inputs);
            var recipe = PretrainingOptions.Load(SampleFile("configs", "quickstart-pretrain.json"),
                [$"data_dir={Path.Combine(run, "data")}", $"output_dir={Path.Combine(run, "model")}", "overwrite_output_dir=true", $"device={p.GetValue(device)}"]);
            var options = WithSteps(recipe, p.GetValue(steps)).Validate();
            var clock = Stopwatch.StartNew();

            w.WriteLine($"1/5  training a BPE tokenizer on {string.Join(", ", inputs.Select(Path.GetFileName))}");
            var tokenizer = await new BpeTrainer(new BpeTrainerOptions { VocabSize = 2048 }).TrainAsync(inputs, null, ct);
            string tokenizerDir = Path.Combine(run, "tokenizer");
            OutputDirectory.Write(tokenizerDir, tokenizer.Save);
            w.WriteLine($"     {tokenizer.VocabSize} tokens → {tokenizerDir}");

            w.WriteLine("2/5  tokenizing the corpus into shards");
            var data = await PrepareProgressView.RunAsync(progress => DataPreparer.PrepareAsync(inputs, tokenizer, options.DataDir,
                new PrepareOptions { DocumentBoundary = DocumentBoundary.BlankLine, Overwrite = true, Tokenizer = tokenizerDir }, progress, ct), w);
            w.WriteLine($"     {data.Train.Tokens:N0} train / {data.Val.Tokens:N0} validation tokens → {options.DataDir}");

            w.WriteLine($"3/5  pretraining a {options.NLayer}-layer GPT for {options.MaxSteps} steps");
            var plan = Pretraining.Check(options);
            var result = await TrainingProgressView.RunAsync(progress => Pretraining.RunAsync(plan, progress, ct), options.MaxSteps, w);
            if (result.Cancelled)
            {
                w.WriteLine($"stopped at step {result.Step}; rerun `gptsharp train --set resume_from_checkpoint=latest ...` or quickstart again.");
                return 130;
            }
            w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"     loss {result.LastLoss:F3}{(result.LastValLoss is { } v ? $", validation loss {v:F3} (perplexity {Math.Exp(v):F1})" : "")} → {result.FinalDir}"));

            int ftSteps = p.GetValue(finetuneSteps);
            if (ftSteps < 0) throw new GptSharpException("--finetune-steps must be 0 or more");
            string chatModel = result.FinalDir!;
            if (ftSteps > 0)
            {
                w.WriteLine($"4/5  fine-tuning on {Path.GetFileName(SampleFile("dialogues", "train.jsonl"))} for {ftSteps} steps (loss on the assistant's replies only)");
                var ftRecipe = FineTuningOptions.Load(SampleFile("configs", "quickstart-finetune.json"),
                    [$"output_dir={Path.Combine(run, "chat")}", "overwrite_output_dir=true", $"device={p.GetValue(device)}"]);
                // Evaluate halfway and at the end; one checkpoint, at the end.
                var ftOptions = WithSteps(ftRecipe, ftSteps) with { EvalSteps = Math.Max(1, ftSteps / 2), SaveSteps = ftSteps };
                using var ftPlan = FineTuning.Check(new FineTuningInputs { ModelDir = chatModel, TrainFile = SampleFile("dialogues", "train.jsonl") }, ftOptions);
                var ft = await TrainingProgressView.RunAsync(progress => FineTuning.RunAsync(ftPlan, progress, ct), ftPlan.MaxSteps, w);
                if (ft.Cancelled) return 130;
                chatModel = ft.FinalDir!;
                w.WriteLine(string.Create(CultureInfo.InvariantCulture, $"     reply loss {ft.LastLoss:F3}, validation {ft.LastValLoss:F3} → {chatModel}"));
            }

            using var loaded = ModelDirectory.Load(chatModel, new LoadOptions { Device = plan.Device });
            if (ftSteps > 0)
            {
                w.WriteLine("5/5  answering held-out questions it has never seen (greedy)");
                var heldOut = DialogueReader.Read(SampleFile("dialogues", "test.jsonl"));
                var report = new DialogueEvaluator(loaded.Model, loaded.Tokenizer) { MaxNewTokens = 64, SampleCount = 4 }.Evaluate(heldOut, "test.jsonl", ct: ct);
                foreach (var sample in report.Samples ?? [])
                {
                    w.WriteLine();
                    w.WriteLine($"  user:  {sample.Input}");
                    w.WriteLine($"  model: {sample.Prediction}");
                }
                w.WriteLine();
                w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  on all {report.Examples} held-out questions: exact match {report.ExactMatch:P0}, token F1 {report.F1:F2}, BLEU {report.Bleu:F2}"));
            }
            else
            {
                w.WriteLine("5/5  letting the model continue a few prompts (sampling, temperature 0.7)");
                var generator = new TextGenerator(loaded.Model, loaded.Tokenizer);
                var decoding = new GenerationOptions { MaxNewTokens = 48, Temperature = 0.7, TopK = 40, Seed = 7 };
                foreach (var prompt in Prompts)
                {
                    string text = loaded.Tokenizer.DecodeText(generator.Generate(loaded.Tokenizer.Encode(prompt), decoding, ct)).TrimEnd();
                    int cut = text.IndexOf("\n\n", StringComparison.Ordinal); // the end of the exchange it starts
                    w.WriteLine();
                    w.WriteLine($"  > {prompt}{(cut >= 0 ? text[..cut] : text).Replace("\n", "\n    ")}");
                }
            }
            w.WriteLine();
            w.WriteLine($"done in {Terminal.Duration(clock.Elapsed)}. Try: gptsharp eval --model {Shown(chatModel)} --data {Shown(SampleFile("dialogues", "test.jsonl"))}");
            return 0;
        });
        return cmd;
    }

    /// <summary>A recipe run for <paramref name="steps"/> steps: its warmup_steps is a cap, the warmup a tenth of the steps at most.</summary>
    static T WithSteps<T>(T recipe, int steps) where T : TrainingArguments =>
        recipe with { MaxSteps = steps, WarmupSteps = Math.Min(recipe.WarmupSteps, steps / 10) };

    static readonly string[] Parts = ["tokenizer", "data", "model", "chat"];

    /// <summary>
    /// The run folder must be new, empty or an earlier quickstart's (rerunning just works); anything else needs
    /// --overwrite. The parts it replaces must never hold an input or the working directory.
    /// </summary>
    static void CheckRunFolder(string shown, string run, bool overwrite, string[] inputs)
    {
        if (File.Exists(run)) throw new GptSharpException($"{shown}: output exists and is a file, not a directory");
        OutputDirectory.CheckWritable(run, shown);
        if (!Directory.Exists(run)) return;
        foreach (var part in Parts) OutputDirectory.CheckDeletable(Path.Combine(run, part), inputs);
        bool ours = Directory.EnumerateFileSystemEntries(run).Select(Path.GetFileName)
            .All(name => Parts.Any(part => name == part || name!.StartsWith(part + ".tmp-", StringComparison.Ordinal) || name.StartsWith(part + ".old-", StringComparison.Ordinal)));
        if (!ours && !overwrite)
            throw new GptSharpException($"{shown}: output folder already exists and holds other files than an earlier quickstart's; " +
                                        "pass --overwrite to use it anyway (its tokenizer/, data/, model/ and chat/ are replaced), or choose another --output");
    }

    /// <summary>A path the user can paste from where they are: relative when under the current directory, else absolute.</summary>
    static string Shown(string path)
    {
        string full = Path.GetFullPath(path), relative = Path.GetRelativePath(Environment.CurrentDirectory, full);
        string shown = relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? full : relative;
        return shown.Contains(' ') ? $"\"{shown}\"" : shown;
    }

    // The samples are copied next to the tool (GptSharp.Cli.csproj), so quickstart finds them from any directory.
    static string SampleCorpus() => SampleFile("text", "support.txt");

    static string SampleFile(params string[] parts)
    {
        string path = Path.Combine([AppContext.BaseDirectory, "samples", .. parts]);
        return File.Exists(path) ? path : throw new GptSharpException($"a bundled sample file is missing ({path})");
    }
}
