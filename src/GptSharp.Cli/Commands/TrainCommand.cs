using System.CommandLine;
using GptSharp.Cli.Progress;
using GptSharp.Training;

namespace GptSharp.Cli.Commands;

static class TrainCommand
{
    public static Command Create()
    {
        var config = new Option<string?>("--config") { Description = "JSON file of training options (Hugging Face TrainingArguments names, e.g. learning_rate)." };
        var set = new Option<string[]>("--set")
        {
            Description = "Override one option: --set key=value (repeatable), e.g. --set max_steps=2000 --set bf16=true.",
            AllowMultipleArgumentsPerToken = true,
            DefaultValueFactory = _ => [],
        };
        var overwrite = OverwriteOption.Create();
        var cmd = new Command("train", "Pretrain a GPT model on a data directory from `gptsharp data prepare`. Ctrl+C saves a checkpoint and stops; " +
                                       "rerun with --set resume_from_checkpoint=latest to continue.") { config, set, overwrite };
        cmd.SetAction(async (p, ct) =>
        {
            var output = p.InvocationConfiguration.Output;
            var options = PretrainingOptions.Load(p.GetValue(config), OverwriteOption.Apply(p, overwrite, p.GetValue(set) ?? []));
            var plan = Pretraining.Check(options); // every input checked before any work or progress display
            var result = await TrainingProgressView.RunAsync(progress => Pretraining.RunAsync(plan, progress, ct), plan.MaxSteps, output);

            return TrainingOutcome.Print(result, "model", output, p.InvocationConfiguration.Error);
        });
        return cmd;
    }
}
