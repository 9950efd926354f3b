using GptSharp.Evaluation;
using ScottPlot;

namespace GptSharp.Cli.Report;

/// <summary>
/// `compare`'s chart: per figure, a bar per model showing its ratio to the first model (so the first model's bars are
/// all 1 and the figures, in different units, share one axis). Written atomically.
/// </summary>
public static class ComparisonPlot
{
    public const string FileName = "compare.png";

    public static string Render(ComparisonReport report, string path)
    {
        PlotFonts.EnsureUsable();
        return PlotFiles.Save(Create(report), path, width: 1100, height: 600);
    }

    public static Plot Create(ComparisonReport report)
    {
        var plot = new Plot();
        var figures = ComparisonTable.Figures(report).ToList();
        int models = report.Models.Count;
        double width = 0.8 / models;
        for (int m = 0; m < models; m++)
        {
            var color = Colors.Category10[m % Colors.Category10.Length];
            var bars = figures.Select((f, i) => (f, i))
                .Where(x => report.Models[m].Ratios?.GetValueOrDefault(x.f.Key) is not null)
                .Select(x => new Bar
                {
                    Position = x.i - 0.4 + width * (m + 0.5), Value = report.Models[m].Ratios![x.f.Key]!.Value, Size = width * 0.9,
                    FillColor = color, LineWidth = 0,
                }).ToArray();
            if (bars.Length > 0) plot.Add.Bars(bars);
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = $"{report.Models[m].Label} ({report.Models[m].Setting()})", FillColor = color });
        }
        var one = plot.Add.HorizontalLine(1);
        one.LinePattern = LinePattern.Dashed;
        one.Color = Colors.Gray;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            [.. figures.Select((_, i) => (double)i)], [.. figures.Select(f => Wrap(f.Label))]);
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        double top = report.Models.SelectMany(m => m.Ratios?.Values ?? []).Max(r => r ?? 0);
        // Room above the tallest bar for the legend.
        plot.Axes.SetLimits(-0.6, figures.Count - 0.4, 0, Math.Max(1, top) * 1.3);
        plot.Title($"Models compared on {Path.GetFileName(report.Dataset)}: each figure as a ratio to {report.Models[0].Label}");
        plot.YLabel($"ratio to {report.Models[0].Label}");
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    /// <summary>Labels broken at spaces into lines of about 10 characters, so that neighbours do not overlap.</summary>
    static string Wrap(string label)
    {
        var lines = new List<string>();
        foreach (var word in label.Split(' '))
            if (lines.Count > 0 && lines[^1].Length + 1 + word.Length <= 10) lines[^1] += " " + word;
            else lines.Add(word);
        return string.Join("\n", lines);
    }
}
