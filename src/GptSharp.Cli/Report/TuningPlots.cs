using ScottPlot;
using GptSharp.IO;
using GptSharp.Tuning;

namespace GptSharp.Cli.Report;

/// <summary>
/// PNG charts of a tuning study, drawn with ScottPlot, each written atomically: the optimization history (every
/// trial's value and the best so far).
/// </summary>
public static class TuningPlots
{
    public const string HistoryFile = "optimization_history.png";
    public const int Width = 800, Height = 500;

    /// <summary>Draws the study's charts into <paramref name="dir"/> and returns their paths.</summary>
    public static IReadOnlyList<string> WriteAll(Study study, IReadOnlyList<FrozenTrial> trials, string dir)
    {
        PlotFonts.EnsureUsable();
        Directory.CreateDirectory(dir);
        string history = Path.Combine(dir, HistoryFile);
        Save(History(study, trials), history);
        return [history];
    }

    /// <summary>Each complete trial's value by number, and the best value so far as a step line.</summary>
    public static Plot History(Study study, IReadOnlyList<FrozenTrial> trials)
    {
        var plot = new Plot();
        var complete = trials.Where(t => t.State == TrialState.Complete).OrderBy(t => t.Number).ToList();
        if (complete.Count > 0)
        {
            var values = plot.Add.ScatterPoints(complete.Select(t => (double)t.Number).ToArray(), complete.Select(t => t.Value!.Value).ToArray());
            values.LegendText = "objective value";
            values.MarkerSize = 6;
            var best = new List<double>();
            foreach (var t in complete) best.Add(best.Count == 0 || study.Direction.IsBetter(t.Value!.Value, best[^1]) ? t.Value!.Value : best[^1]);
            var line = plot.Add.Scatter(complete.Select(t => (double)t.Number).ToArray(), best.ToArray());
            line.ConnectStyle = ConnectStyle.StepHorizontal;
            line.MarkerSize = 0;
            line.LineWidth = 2;
            line.LegendText = "best value";
        }
        plot.Title($"Optimization history: {study.Name}");
        plot.XLabel("trial");
        plot.YLabel("objective value");
        plot.ShowLegend(study.Direction == StudyDirection.Minimize ? Alignment.UpperRight : Alignment.LowerRight);
        return plot;
    }

    static void Save(Plot plot, string path)
    {
        byte[] png = plot.GetImageBytes(Width, Height, ImageFormat.Png);
        AtomicFile.Write(path, f => f.Write(png));
    }
}
