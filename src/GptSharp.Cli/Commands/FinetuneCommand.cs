using System.CommandLine;
using GptSharp.Cli.Progress;
using GptSharp.Training;

namespace GptSharp.Cli.Commands;

/// <summary>`gptsharp finetune`: supervised fine-tuning of a model directory on dialogues.</summary>
static class FinetuneCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model directory to start from: ours or a Hugging Face GPT-2 directory.", Required = true };
        var data = new Option<string>("--data")
        {
            Description = "Dialogues: JSON array or JSONL of {\"input\",\"output\"} pairs (optional \"system\"), JSONL of {\"messages\": [...]}, " +
                          "or a transcript with <user>/<bot> line markers.",
            Required = true,
        };
        var valData = new Option<string?>("--val-data") { Description = "Held-out dialogues for evaluation (default: hold out --val-fraction of --data)." };
        var valFraction = new Option<double>("--val-fraction") { Description = "Share of conversations held out when there is no --val-data.", DefaultValueFactory = _ => 0.1 };
        var output = new Option<string?>("--output") { Description = "Run directory (output_dir); final/ becomes the chat model." };
        var trainOnPrompt = new Option<bool>("--train-on-prompt") { Description = "Compute the loss on every token, not only the assistant's replies." };
        var config = new Option<string?>("--config")
        {
            Description = "JSON file of fine-tuning options (Hugging Face TrainingArguments names, plus block_size, val_fraction, train_on_prompt).",
        };
        var set = new Option<string[]>("--set")
        {
            Description = "Override one option: --set key=value (repeatable), e.g. --set max_steps=500 --set learning_rate=3e-4 (default length: num_train_epochs=3).",
            AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [],
        };
        var overwrite = OverwriteOption.Create();
        var cmd = new Command("finetune", "Fine-tune a model on dialogues; the loss covers the assistant's replies. Writes a chat model directory " +
                                          "(weights, tokenizer with chat template, generation defaults).")
            { model, data, valData, valFraction, output, trainOnPrompt, config, set, overwrite };
        cmd.SetAction(async (p, ct) =>
        {
            var w = p.InvocationConfiguration.Output;
            // The flags are options too: given ones go first, so --set still has the last word.
            List<string> flags = [];
            if (p.GetValue(output) is { } dir) flags.Add($"output_dir={dir}");
            if (p.GetResult(valFraction) is { Implicit: false }) flags.Add(FormattableString.Invariant($"val_fraction={p.GetValue(valFraction):R}"));
            if (p.GetValue(trainOnPrompt)) flags.Add("train_on_prompt=true");
            string[] overrides = OverwriteOption.Apply(p, overwrite, [.. flags, .. p.GetValue(set) ?? []]);
            // block_size, unless given, fits the model's context: FineTuning.Check resolves it from the model it loads.
            var options = FineTuningOptions.Load(p.GetValue(config), overrides);

            using var plan = FineTuning.Check(new FineTuningInputs
            {
                ModelDir = p.GetValue(model)!, TrainFile = p.GetValue(data)!, ValFile = p.GetValue(valData),
            }, options);
            var result = await TrainingProgressView.RunAsync(progress => FineTuning.RunAsync(plan, progress, ct), plan.MaxSteps, w);
            int code = TrainingOutcome.Print(result, "chat model", w, p.InvocationConfiguration.Error);
            if (code == 0) w.WriteLine($"evaluate it with: gptsharp eval --model {result.FinalDir} --data HELD_OUT.jsonl");
            return code;
        });
        return cmd;
    }
}
