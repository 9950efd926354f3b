using System.Globalization;
using ScottPlot;
using GptSharp.IO;
using GptSharp.Training.Advisors;

namespace GptSharp.Cli.Report;

/// <summary>
/// <c>lr_find.png</c>: a range test's smoothed loss (and, faintly, the raw loss) against log10 of the learning rate, the
/// ticks labelled 1e-k, each suggestion a vertical line named with its value. Written atomically.
/// </summary>
public static class LearningRatePlot
{
    public const string FileName = "lr_find.png";

    public static string Render(LearningRateRangeResult result, string outputDir)
    {
        PlotFonts.EnsureUsable();
        string path = Path.Combine(outputDir, FileName);
        return PlotFiles.Save(Create(result), path);
    }

    public static Plot Create(LearningRateRangeResult result)
    {
        var plot = new Plot();
        var finite = result.Points.Where(p => double.IsFinite(p.Loss) && double.IsFinite(p.SmoothedLoss)).ToList();
        double[] x = [.. finite.Select(p => Math.Log10(p.LearningRate))];
        if (finite.Count > 0)
        {
            var raw = plot.Add.Scatter(x, finite.Select(p => p.Loss).ToArray());
            raw.LegendText = "loss";
            raw.MarkerSize = 0;
            raw.LineWidth = 1;
            raw.Color = raw.Color.WithAlpha(0.3);
            var smooth = plot.Add.Scatter(x, finite.Select(p => p.SmoothedLoss).ToArray());
            smooth.LegendText = "smoothed loss";
            smooth.MarkerSize = 0;
            smooth.LineWidth = 2;
            // The raw loss of the last steps can be 100× the rest: the axis follows the smoothed curve, which stops at 4× its best.
            double low = finite.Min(p => Math.Min(p.Loss, p.SmoothedLoss)), high = finite.Max(p => p.SmoothedLoss);
            double pad = Math.Max(high - low, 1e-6) * 0.05;
            plot.Axes.SetLimitsY(low - pad, high + pad);
        }
        foreach (var s in result.Suggestions)
        {
            var line = plot.Add.VerticalLine(Math.Log10(s.LearningRate));
            line.LegendText = $"{s.Method}: {Format(s.LearningRate)}{(s == result.Recommended ? " (recommended)" : "")}";
            line.LineWidth = s == result.Recommended ? 2 : 1;
            line.LinePattern = s == result.Recommended ? LinePattern.Solid : LinePattern.Dashed;
        }
        // Decades as 1e-k: a log axis read in the units users type into a config.
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        var o = result.Options;
        for (int k = (int)Math.Floor(Math.Log10(o.Start)); k <= (int)Math.Ceiling(Math.Log10(o.End)); k++)
            ticks.AddMajor(k, $"1e{k}");
        plot.Axes.Bottom.TickGenerator = ticks;
        plot.Axes.SetLimitsX(Math.Log10(o.Start), Math.Log10(o.End));
        plot.Title("Learning-rate range test");
        plot.XLabel("learning rate (log scale)");
        plot.YLabel("training loss (nats)");
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }

    /// <summary>A learning rate as 1.2e-3: the form a log axis and a config read best.</summary>
    public static string Format(double lr) => lr.ToString("0.##e+0", CultureInfo.InvariantCulture);
}
