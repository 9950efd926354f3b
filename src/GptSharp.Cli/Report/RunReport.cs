using GptSharp.Cli.Progress;
using Spectre.Console;
using GptSharp.Training;

namespace GptSharp.Cli.Report;

/// <summary>A training run's one-screen summary and its charts, as `report` and the end of `train`/`finetune` show them.</summary>
static class RunReport
{
    /// <summary>Prints a run's one-screen summary and (re)draws its charts; also called at the end of train and finetune.</summary>
    public static void Show(string dir, bool plots, TextWriter output, TextWriter error)
    {
        var history = TrainingHistory.Read(Path.Combine(dir, MetricsLog.FileName));
        if (history.TornLastLine is { } torn)
            output.WriteLine($"note: {torn}: skipped an incomplete last line (the run was stopped while writing it)");
        if (history.Train.Count == 0 && history.Eval.Count == 0)
            throw new GptSharpException($"{Path.Combine(dir, MetricsLog.FileName)}: no training or evaluation lines yet");
        var summary = TrainingSummary.From(history);
        if (Terminal.IsInteractive(output))
        {
            var table = new Table().Border(TableBorder.Rounded).Title(Markup.Escape(dir)).AddColumn("").AddColumn("");
            table.ShowHeaders = false;
            foreach (var (label, value) in summary.Rows()) table.AddRow(Markup.Escape(label), Markup.Escape(value));
            AnsiConsole.Write(table);
        }
        else output.Write(summary.Format());

        if (!plots) return;
        if (!PlotFonts.EnsureUsable())
            error.WriteLine($"warning: no font found (looked in {string.Join(", ", PlotFonts.Folders)}), " +
                "so the charts have no text; install one, e.g. `apt-get install fonts-dejavu-core`");
        foreach (string png in TrainingPlots.Render(history, dir))
            output.WriteLine($"wrote {png}");
    }
}
