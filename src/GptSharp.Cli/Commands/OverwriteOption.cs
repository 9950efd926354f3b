using System.CommandLine;

namespace GptSharp.Cli.Commands;

/// <summary>`--overwrite` for train and finetune: the same as `--set overwrite_output_dir=true`.</summary>
static class OverwriteOption
{
    public static Option<bool> Create() => new("--overwrite")
    {
        Description = "Start over in an output_dir that holds a previous run, deleting its checkpoints, final/, run.json and metrics.jsonl " +
                      "(the same as --set overwrite_output_dir=true; never when they hold an input or the working directory).",
    };

    /// <summary>The --set overrides with overwrite_output_dir=true added last when --overwrite is given.</summary>
    public static string[] Apply(ParseResult p, Option<bool> overwrite, string[] overrides) =>
        p.GetValue(overwrite) ? [.. overrides, "overwrite_output_dir=true"] : overrides;
}
