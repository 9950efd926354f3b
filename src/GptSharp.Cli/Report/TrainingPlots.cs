using ScottPlot;
using GptSharp.IO;
using GptSharp.Training;

namespace GptSharp.Cli.Report;

/// <summary>
/// PNG charts of a run, drawn with ScottPlot: <c>loss.png</c> (training and validation loss against step),
/// <c>lr.png</c> (learning rate against step) and, when a batch_size_schedule changed the batch, <c>batch_size.png</c>
/// (effective batch against step). Each file is written atomically. Where the machine has no font at all
/// (<see cref="PlotFonts.EnsureUsable"/> is false) the charts are still drawn, without text.
/// </summary>
public static class TrainingPlots
{
    public const string LossFile = "loss.png", LearningRateFile = "lr.png", BatchSizeFile = "batch_size.png";
    public const int Width = 800, Height = 500;

    /// <summary>Draws both charts into <paramref name="outputDir"/> and returns their paths.</summary>
    public static IReadOnlyList<string> Render(TrainingHistory history, string outputDir)
    {
        PlotFonts.EnsureUsable();
        string loss = Path.Combine(outputDir, LossFile), lr = Path.Combine(outputDir, LearningRateFile);
        Save(LossPlot(history), loss);
        Save(LearningRatePlot(history), lr);
        if (!history.BatchSizeVaries) return [loss, lr];
        string batch = Path.Combine(outputDir, BatchSizeFile);
        Save(BatchSizePlot(history), batch);
        return [loss, lr, batch];
    }

    /// <summary>The effective batch against step: the ramp as it ran (steps of the schedule show as stairs).</summary>
    public static Plot BatchSizePlot(TrainingHistory h)
    {
        var plot = new Plot();
        var points = h.Train.Where(p => p.BatchSize is not null).ToList();
        if (points.Count > 0)
        {
            var s = plot.Add.Scatter(points.Select(p => (double)p.Step).ToArray(), points.Select(p => (double)p.BatchSize!.Value).ToArray());
            s.ConnectStyle = ConnectStyle.StepHorizontal;
            s.MarkerSize = points.Count > 50 ? 0 : 4;
            s.LineWidth = 1.5f;
        }
        plot.Title("Batch size (batch_size_schedule)");
        plot.XLabel("step");
        plot.YLabel("sequences per optimizer step");
        plot.Axes.SetLimitsY(0, (points.Count > 0 ? points.Max(p => p.BatchSize!.Value) : 1) * 1.1);
        return plot;
    }

    public static Plot LossPlot(TrainingHistory h)
    {
        var plot = new Plot();
        if (h.Train.Count > 0)
        {
            var s = plot.Add.Scatter(h.Train.Select(p => (double)p.Step).ToArray(), h.Train.Select(p => p.Loss).ToArray());
            s.LegendText = "train loss";
            s.MarkerSize = h.Train.Count > 50 ? 0 : 4;
            s.LineWidth = 1.5f;
        }
        if (h.Eval.Count > 0)
        {
            var s = plot.Add.Scatter(h.Eval.Select(p => (double)p.Step).ToArray(), h.Eval.Select(p => p.ValLoss).ToArray());
            s.LegendText = "val loss";
            s.MarkerSize = 6;
            s.LineWidth = 2;
        }
        plot.Title("Loss");
        plot.XLabel("step");
        plot.YLabel("cross-entropy (nats)");
        plot.ShowLegend(Alignment.UpperRight);
        return plot;
    }

    public static Plot LearningRatePlot(TrainingHistory h)
    {
        var plot = new Plot();
        var points = h.Train.Where(p => !double.IsNaN(p.LearningRate)).ToList();
        if (points.Count > 0)
        {
            var s = plot.Add.Scatter(points.Select(p => (double)p.Step).ToArray(), points.Select(p => p.LearningRate).ToArray());
            s.MarkerSize = points.Count > 50 ? 0 : 4;
            s.LineWidth = 1.5f;
        }
        // 0.0006 reads worse than 6e-4 and "5E-05" mixes styles: label every tick in one scientific format.
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            LabelFormatter = v => v == 0 ? "0" : v.ToString("0.##e+0", System.Globalization.CultureInfo.InvariantCulture),
        };
        plot.Title("Learning rate");
        plot.XLabel("step");
        plot.YLabel("learning rate");
        return plot;
    }

    static void Save(Plot plot, string path) => PlotFiles.Save(plot, path, Width, Height);
}
