using System.CommandLine;
using GptSharp.Cli.Report;

namespace GptSharp.Cli.Commands;

static class ReportCommand
{
    public static Command Create()
    {
        var runDir = new Argument<string>("RUN_DIR") { Description = "A training run's output directory (holds metrics.jsonl)." };
        var noPlots = new Option<bool>("--no-plots") { Description = "Print the summary only; do not redraw loss.png and lr.png." };
        var cmd = new Command("report", "Summarise a training run and redraw its charts (loss.png, lr.png) from metrics.jsonl.") { runDir, noPlots };
        cmd.SetAction((p, ct) =>
        {
            string dir = p.GetValue(runDir)!;
            if (!Directory.Exists(dir)) throw new GptSharpException($"{dir}: no such run directory");
            RunReport.Show(dir, !p.GetValue(noPlots), p.InvocationConfiguration.Output, p.InvocationConfiguration.Error);
            return Task.FromResult(0);
        });
        return cmd;
    }
}
