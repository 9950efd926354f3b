using ScottPlot;
using GptSharp.IO;
using GptSharp.Training.Advisors;

namespace GptSharp.Cli.Report;

/// <summary>
/// <c>find_batch_size.png</c>: training speed (tokens/s) against the batch size (log2 axis) of each probe that fitted,
/// the batches that did not fit marked on the axis, the largest fit and the recommendation as vertical lines. Written atomically.
/// </summary>
public static class BatchSizePlot
{
    public const string FileName = "find_batch_size.png";

    public static string Render(BatchSizeResult result, string outputDir)
    {
        PlotFonts.EnsureUsable();
        string path = Path.Combine(outputDir, FileName);
        return PlotFiles.Save(Create(result), path);
    }

    public static Plot Create(BatchSizeResult result)
    {
        var plot = new Plot();
        var fits = result.ByBatchSize.Where(p => p.Fits && p.TokensPerSecond is double v && double.IsFinite(v)).ToList();
        if (fits.Count > 0)
        {
            var s = plot.Add.Scatter(fits.Select(p => Math.Log2(p.BatchSize)).ToArray(), fits.Select(p => p.TokensPerSecond!.Value).ToArray());
            s.LegendText = "tokens/s (fits)";
            s.LineWidth = 2;
            s.MarkerSize = 7;
        }
        var failed = result.ByBatchSize.Where(p => !p.Fits).ToList();
        if (failed.Count > 0)
        {
            var f = plot.Add.ScatterPoints(failed.Select(p => Math.Log2(p.BatchSize)).ToArray(), failed.Select(_ => 0.0).ToArray());
            f.LegendText = "does not fit";
            f.MarkerShape = MarkerShape.Eks;
            f.MarkerSize = 10;
            f.Color = Colors.Red;
        }
        var largest = plot.Add.VerticalLine(Math.Log2(result.LargestFit));
        largest.LegendText = $"largest fit: {result.LargestFit}";
        largest.LinePattern = LinePattern.Dashed;
        var rec = plot.Add.VerticalLine(Math.Log2(result.Recommendation.PerDeviceTrainBatchSize));
        rec.LegendText = $"recommended: {result.Recommendation.PerDeviceTrainBatchSize} × {result.Recommendation.GradientAccumulationSteps} accumulation";
        rec.LineWidth = 2;
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        int top = (int)Math.Ceiling(Math.Log2(Math.Max(2, result.Probes.Max(p => p.BatchSize))));
        for (int k = 0; k <= top; k++) ticks.AddMajor(k, (1 << k).ToString(System.Globalization.CultureInfo.InvariantCulture));
        plot.Axes.Bottom.TickGenerator = ticks;
        plot.Axes.SetLimitsX(-0.3, top + 0.3);
        double maxSpeed = fits.Count > 0 ? fits.Max(p => p.TokensPerSecond!.Value) : 1;
        plot.Axes.SetLimitsY(-0.05 * maxSpeed, 1.1 * maxSpeed);
        plot.Title($"Batch-size search (block_size {result.BlockSize})");
        plot.XLabel("per-device batch size (log2 scale)");
        plot.YLabel("training tokens per second");
        plot.ShowLegend(Alignment.UpperLeft);
        return plot;
    }
}
