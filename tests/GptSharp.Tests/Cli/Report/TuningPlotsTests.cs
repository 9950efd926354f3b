using System.Buffers.Binary;
using GptSharp.Cli.Report;
using GptSharp.Tuning;
using GptSharp.Tuning.Samplers;
using GptSharp.Tuning.Storages;
using ScottPlot;
using SkiaSharp;

namespace GptSharp.Tests.Cli.Report;

public class TuningPlotsTests
{
    /// <summary>
    /// 12 finished trials on four kinds of parameter (log float, float, int, categorical), each reporting at steps
    /// 1..5; trials whose value at step 2 is above 2.3 are pruned there (the first three for sure: their learning rates
    /// are far from 1e-3); one trial fails, one is still running.
    /// </summary>
    public static Study MadeUpStudy(ITrialStorage? storage = null, string name = "plots")
    {
        var study = Study.Create(name, storage ?? new InMemoryStorage(), new RandomSampler(5));
        foreach (double lr in new[] { 1e-5, 3e-5, 1e-1 }) study.Enqueue(new Dictionary<string, object?> { ["lr"] = lr });
        study.Optimize(t =>
        {
            double lr = t.SuggestFloat("lr", 1e-5, 1e-1, log: true);
            double dropout = t.SuggestFloat("dropout", 0, 0.5);
            int layers = t.SuggestInt("layers", 1, 8);
            string opt = t.SuggestCategorical("optimizer", ["adamw", "sgd"]);
            double final = Math.Abs(Math.Log10(lr) + 3) + (opt == "sgd" ? 0.5 : 0) + dropout / 10;
            for (int step = 1; step <= 5; step++)
            {
                double v = final + 2.0 / step;
                t.Report(step, v);
                if (step == 2 && v > 2.3) throw new TrialPrunedException();
            }
            return final;
        }, nTrials: 12);
        var failed = study.Ask()!;
        failed.SuggestFloat("lr", 1e-5, 1e-1, log: true);
        failed.Report(1, 4);
        study.Tell(failed.Number, TrialState.Fail);
        var running = study.Ask()!;
        running.Report(1, 3.5);
        return study;
    }

    static void AssertPng(string path)
    {
        byte[] png = File.ReadAllBytes(path);
        Assert.True(png.Length > 1000, $"{path}: only {png.Length} bytes");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        Assert.Equal(TuningPlots.Width, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
        Assert.Equal(TuningPlots.Height, BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
    }

    /// <summary>How many pixels of the image are close to <paramref name="color"/>.</summary>
    static int PixelsNear(string path, Color color)
    {
        using var bitmap = SKBitmap.Decode(path);
        int n = 0;
        for (int y = 0; y < bitmap.Height; y++)
            for (int x = 0; x < bitmap.Width; x++)
            {
                var p = bitmap.GetPixel(x, y);
                if (Math.Abs(p.Red - color.R) + Math.Abs(p.Green - color.G) + Math.Abs(p.Blue - color.B) < 40) n++;
            }
        return n;
    }

    [Fact]
    public void WritesEveryChartAsAValidPng()
    {
        var study = MadeUpStudy();
        var trials = study.Trials;
        Assert.Contains(trials, t => t.State == TrialState.Pruned);
        Assert.Contains(trials, t => t.State == TrialState.Complete);
        string dir = Directory.CreateTempSubdirectory("gptsharp-tuneplots-").FullName;
        try
        {
            var files = TuningPlots.WriteAll(study, trials, dir);
            string[] expected = [TuningPlots.HistoryFile, TuningPlots.IntermediateFile, TuningPlots.ImportanceFile,
                "slice_dropout.png", "slice_layers.png", "slice_lr.png", "slice_optimizer.png"];
            Assert.Equal(expected.Select(f => Path.Combine(dir, f)), files);
            foreach (string f in files) AssertPng(f);
            Assert.Empty(Directory.GetFiles(dir, "*.tmp-*"));
            Assert.True(PixelsNear(Path.Combine(dir, TuningPlots.IntermediateFile), Colors.Category10[3]) > 200, "pruned trials are drawn in red");
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void AStudyWithoutCompleteTrialsStillGetsItsChartsEmptyWithANote()
    {
        var study = Study.Create("empty", new InMemoryStorage(), new RandomSampler(1));
        var t = study.Ask()!;
        t.SuggestFloat("lr", 1e-4, 1e-2, log: true);
        t.Report(1, 2.0);
        study.Tell(t.Number, TrialState.Pruned);
        string dir = Directory.CreateTempSubdirectory("gptsharp-tuneplots-").FullName;
        try
        {
            var files = TuningPlots.WriteAll(study, study.Trials, dir);
            Assert.Equal([TuningPlots.HistoryFile, TuningPlots.IntermediateFile, TuningPlots.ImportanceFile, "slice_lr.png"],
                files.Select(Path.GetFileName));
            foreach (string f in files) AssertPng(f);
            Assert.Contains("needs at least 2 complete trials", Annotations(TuningPlots.Importance(study, new Dictionary<string, double>(), 0)));
            Assert.Contains("no complete trial yet", Annotations(TuningPlots.History(study, study.Trials)));
            Assert.Contains("no complete trial has this parameter", Annotations(TuningPlots.Slice(study, study.Trials, "lr")));
            Assert.DoesNotContain("no trial reported intermediate values", Annotations(TuningPlots.IntermediateValues(study, study.Trials)));

            // No trials at all: the three study-wide charts, no slices.
            var none = Study.Create("none", new InMemoryStorage(), new RandomSampler(1));
            var noFiles = TuningPlots.WriteAll(none, none.Trials, dir);
            Assert.Equal(3, noFiles.Count);
            Assert.Contains("no trial reported intermediate values", Annotations(TuningPlots.IntermediateValues(none, none.Trials)));
            Assert.Equal(0, PixelsNear(noFiles[1], Colors.Category10[3]));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    /// <summary>Draws the plot once: manual tick generators list their ticks only after a render.</summary>
    static Plot Rendered(Plot plot)
    {
        plot.GetImageBytes(TuningPlots.Width, TuningPlots.Height, ImageFormat.Png);
        return plot;
    }

    static string Annotations(Plot plot) =>
        string.Join("\n", plot.GetPlottables().OfType<ScottPlot.Plottables.Annotation>().Select(a => a.Text));

    [Fact]
    public void SlicesUsePowerOfTenTicksForLogParametersAndChoiceNamesForCategoricals()
    {
        var study = MadeUpStudy();
        var lr = Rendered(TuningPlots.Slice(study, study.Trials, "lr"));
        var logTicks = Assert.IsType<ScottPlot.TickGenerators.NumericManual>(lr.Axes.Bottom.TickGenerator).Ticks.Where(t => t.IsMajor).ToList();
        Assert.Equal([-5.0, -4, -3, -2, -1], logTicks.Select(t => Math.Round(t.Position, 9)));
        Assert.Equal(["1e-5", "1e-4", "1e-3", "1e-2", "1e-1"], logTicks.Select(t => t.Label));
        // Points are drawn at log10 of the value.
        var points = lr.GetPlottables().OfType<ScottPlot.Plottables.Markers>().Single().Data.GetScatterPoints();
        Assert.All(points, p => Assert.InRange(p.X, -5, -1));

        var opt = Rendered(TuningPlots.Slice(study, study.Trials, "optimizer"));
        var choiceTicks = Assert.IsType<ScottPlot.TickGenerators.NumericManual>(opt.Axes.Bottom.TickGenerator).Ticks;
        Assert.Equal(["adamw", "sgd"], choiceTicks.Select(t => t.Label));
        Assert.Equal([0.0, 1.0], choiceTicks.Select(t => t.Position));
    }

    [Fact]
    public void ImportanceBarsPutTheMostImportantParameterOnTop()
    {
        var study = MadeUpStudy();
        var plot = Rendered(TuningPlots.Importance(study, new OrderedDictionary<string, double> { ["lr"] = 0.7, ["optimizer"] = 0.2, ["layers"] = 0.1 }, 9));
        var bars = plot.GetPlottables().OfType<ScottPlot.Plottables.BarPlot>().Single();
        Assert.All(bars.Bars, b => Assert.Equal(Orientation.Horizontal, b.Orientation));
        Assert.Equal([0.1, 0.2, 0.7], bars.Bars.Select(b => b.Value)); // bottom-up
        var labels = Assert.IsType<ScottPlot.TickGenerators.NumericManual>(plot.Axes.Left.TickGenerator).Ticks.OrderBy(t => t.Position).Select(t => t.Label);
        Assert.Equal(["layers", "optimizer", "lr"], labels);
    }

    [Fact]
    public void SliceFileNamesAreSafeAndDistinct()
    {
        var files = TuningPlots.SliceFiles(["model.n_layer", "a/b", "a:b", "lr", "lr", "A/B"]);
        Assert.Equal("slice_model.n_layer.png", files["model.n_layer"]);
        Assert.Equal("slice_lr.png", files["lr"]);
        Assert.Equal(["slice_A_B.png", "slice_a_b_2.png", "slice_a_b_3.png"], new[] { files["A/B"], files["a/b"], files["a:b"] });
        Assert.Equal(5, files.Count);
        Assert.Equal(5, files.Values.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }
}
