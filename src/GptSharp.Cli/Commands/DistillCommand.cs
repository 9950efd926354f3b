using System.CommandLine;
using GptSharp.Cli.Progress;
using GptSharp.Distillation;
using GptSharp.Training;

namespace GptSharp.Cli.Commands;

/// <summary>`gptsharp distill`: knowledge distillation of a teacher model into a smaller student.</summary>
static class DistillCommand
{
    public static Command Create()
    {
        var teacher = new Option<string>("--teacher")
        {
            Description = "The teacher's model directory (a chat model to distil on dialogues). It runs without gradients, in eval mode.",
            Required = true,
        };
        var studentLayers = new Option<int?>("--student-layers")
        {
            Description = "The student's depth: that many teacher layers, evenly spread (12 → 6 takes 0, 2, 4, 7, 9, 11), with the embeddings " +
                          "and final layer norm copied (student_layers). Explicit layers: --set student_layer_indices=[0,2,5].",
        };
        var studentConfig = new Option<string?>("--student-config")
        {
            Description = "A model config for a student of other widths, initialised fresh: a Hugging Face GPT-2 config.json or JSON of " +
                          "n_layer, n_head, n_embd, block_size (missing keys are the teacher's; the vocabulary must be the teacher's) (student_config).",
        };
        var data = new Option<string>("--data")
        {
            Description = "A data directory from `gptsharp data prepare` (made with the teacher's tokenizer; every token counts), or dialogues " +
                          "in any format `finetune` reads (the assistant's replies count, and final/ becomes a chat model).",
            Required = true,
        };
        var valData = new Option<string?>("--val-data") { Description = "Held-out dialogues for evaluation (default: hold out val_fraction of the dialogues)." };
        var output = new Option<string?>("--output") { Description = "Run directory (output_dir); final/ becomes the student's model directory." };
        var config = new Option<string?>("--config")
        {
            Description = "JSON file of distillation options: the training options (Hugging Face TrainingArguments names) plus temperature (2.0), " +
                          "alpha_ce (0.5, KL to the teacher × T²), alpha_clm (0.5, next-token cross-entropy), alpha_cos (0, hidden-state cosine; " +
                          "same widths only), beta (0: forward KL … 1: reverse KL, generalized JSD between), lmbda (0: share of batches with " +
                          "replies sampled by the student, max_new_tokens 64, sampling_temperature 1.0), teacher_precision (fp32, bf16 or int8), " +
                          "dropout (the student's; default its config's), block_size, val_fraction, train_on_prompt.",
        };
        var set = new Option<string[]>("--set")
        {
            Description = "Override one option: --set key=value (repeatable), e.g. --set max_steps=500 --set temperature=4 --set teacher_precision=int8.",
            AllowMultipleArgumentsPerToken = true, DefaultValueFactory = _ => [],
        };
        var overwrite = OverwriteOption.Create();
        var cmd = new Command("distill", "Distil a teacher model into a smaller student (Hinton et al. 2015; DistilGPT2's loss: KL to the teacher's " +
                                         "softened distributions plus cross-entropy), with the same options, checkpoints, resume, metrics and plots as " +
                                         "`train` and `finetune`. Writes the student as a model directory (a chat model when distilled on dialogues).")
            { teacher, studentLayers, studentConfig, data, valData, output, config, set, overwrite };
        cmd.SetAction(async (p, ct) =>
        {
            var w = p.InvocationConfiguration.Output;
            // The flags are options too: given ones go first, so --set still has the last word.
            List<string> flags = [];
            if (p.GetValue(output) is { } dir) flags.Add($"output_dir={dir}");
            if (p.GetValue(studentLayers) is { } n) flags.Add($"student_layers={n}");
            if (p.GetValue(studentConfig) is { } file) flags.Add($"student_config={file}");
            string[] overrides = OverwriteOption.Apply(p, overwrite, [.. flags, .. p.GetValue(set) ?? []]);
            var options = DistillationOptions.Load(p.GetValue(config), overrides);

            using var plan = Distiller.Check(new DistillationInputs { TeacherDir = p.GetValue(teacher)!, Data = p.GetValue(data)!, ValData = p.GetValue(valData) }, options);
            var result = await TrainingProgressView.RunAsync(progress => Distiller.RunAsync(plan, progress, ct), plan.MaxSteps, w);
            int code = TrainingOutcome.Print(result, plan.Train is null ? "student model" : "student chat model", w, p.InvocationConfiguration.Error);
            if (code == 0) w.WriteLine($"compare it with its teacher: gptsharp eval --model {result.FinalDir} --data HELD_OUT");
            return code;
        });
        return cmd;
    }
}
