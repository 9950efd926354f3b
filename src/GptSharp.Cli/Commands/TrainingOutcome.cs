using System.Globalization;
using GptSharp.Cli.Report;
using GptSharp.Training;

namespace GptSharp.Cli.Commands;

/// <summary>How `train` and `finetune` end: where a cancelled run can resume, or the run's summary, charts and result.</summary>
static class TrainingOutcome
{
    /// <returns>The exit code: 130 when cancelled, else 0.</returns>
    public static int Print(TrainingResult result, string what, TextWriter output, TextWriter error)
    {
        if (result.Cancelled)
        {
            output.WriteLine(result.LastCheckpoint is { } ckpt
                ? $"stopped at step {result.Step}; saved {ckpt}. Continue with: --set resume_from_checkpoint=latest"
                : "stopped before the first step; nothing saved");
            return 130;
        }
        RunReport.Show(result.OutputDir, plots: true, output, error);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"done: {result.Step} steps, loss {result.LastLoss:F4}{(result.LastValLoss is { } v ? $", val_loss {v:F4} (ppl {Math.Exp(v):F2})" : "")}; {what} in {result.FinalDir}"));
        return 0;
    }
}
