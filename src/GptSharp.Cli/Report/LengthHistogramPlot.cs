using ScottPlot;
using GptSharp.Data.Statistics;
using GptSharp.IO;

namespace GptSharp.Cli.Report;

/// <summary>
/// <c>length_histogram.png</c>: how many conversations (or documents) have each token length, with the recommended
/// block_size + 1 (the longest sequence a block holds whole) marked. Written atomically.
/// </summary>
public static class LengthHistogramPlot
{
    public const string FileName = "length_histogram.png";
    public const int Width = 800, Height = 500;

    public static string Render(DataStatistics stats, string outputDir)
    {
        PlotFonts.EnsureUsable();
        string path = Path.Combine(outputDir, FileName);
        return PlotFiles.Save(Plot(stats), path);
    }

    public static Plot Plot(DataStatistics stats)
    {
        var plot = new Plot();
        var h = stats.Histogram;
        var bars = h.Counts.Select((count, i) => new Bar
        {
            Position = h.Start(i) + h.BinWidth / 2.0, Value = count, Size = h.BinWidth * 0.95, LineWidth = 0,
        }).ToArray();
        plot.Add.Bars(bars);
        int fit = stats.Recommendation.Recommended + 1;
        var line = plot.Add.VerticalLine(fit);
        line.LegendText = $"recommended block_size {stats.Recommendation.Recommended} (+1)";
        line.LinePattern = LinePattern.Dashed;
        var p95 = plot.Add.VerticalLine(stats.Lengths.P95);
        p95.LegendText = $"p95 = {stats.Lengths.P95} tokens";
        p95.LineWidth = 1;
        plot.Axes.SetLimitsX(0, Math.Max(h.Counts.Count * h.BinWidth, fit) * 1.05);
        plot.Axes.SetLimitsY(0, Math.Max(1, h.Counts.Max()) * 1.1);
        plot.Title($"Token lengths of {stats.Lengths.Count:N0} {stats.Unit}");
        plot.XLabel($"tokens per {stats.Unit.TrimEnd('s')} (bins of {h.BinWidth})");
        plot.YLabel(stats.Unit);
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }
}
