using System.Globalization;
using System.Text;
using ScottPlot;
using GptSharp.IO;
using GptSharp.Tuning;
using GptSharp.Tuning.Importance;

namespace GptSharp.Cli.Report;

/// <summary>
/// PNG charts of a tuning study, drawn with ScottPlot, each written atomically (the shapes of Optuna's
/// <c>optuna.visualization</c>): the optimization history (every trial's value and the best so far), the intermediate
/// values each trial reported (pruned trials dashed, a cross where they stopped), one slice per parameter (objective
/// against the parameter, on the scale it is sampled on), and parameter importance (fANOVA, see
/// <see cref="ParameterImportance"/>). A study with nothing to show in a chart still gets the chart, empty, with a note
/// saying why, so a report always has the same files.
/// </summary>
public static class TuningPlots
{
    public const string HistoryFile = "optimization_history.png", IntermediateFile = "intermediate_values.png",
        ImportanceFile = "param_importances.png";
    public const int Width = 800, Height = 500;

    static readonly Color CompleteColor = Colors.Category10[0], PrunedColor = Colors.Category10[3],
        RunningColor = Colors.Gray, FailColor = Colors.Black, BestColor = Colors.Category10[1];

    /// <summary>Draws the study's charts into <paramref name="dir"/> and returns their paths: history, intermediate values, importance, then the slices by parameter name.</summary>
    public static IReadOnlyList<string> WriteAll(Study study, IReadOnlyList<FrozenTrial> trials, string dir)
    {
        PlotFonts.EnsureUsable();
        Directory.CreateDirectory(dir);
        var paths = new List<string>();
        void Write(Plot plot, string file)
        {
            string path = Path.Combine(dir, file);
            Save(plot, path);
            paths.Add(path);
        }
        Write(History(study, trials), HistoryFile);
        Write(IntermediateValues(study, trials), IntermediateFile);
        var complete = trials.Where(t => t.State == TrialState.Complete && t.Value is { } v && double.IsFinite(v)).ToList();
        Write(Importance(study, ParameterImportance.Evaluate(complete, study.Direction), complete.Count), ImportanceFile);
        foreach (var (name, file) in SliceFiles(trials.SelectMany(t => t.Distributions.Keys)))
            Write(Slice(study, trials, name), file);
        return paths;
    }

    /// <summary>
    /// The slice file of each parameter, by name in ordinal order: <c>slice_NAME.png</c>, with characters other than
    /// letters, digits, '-', '_' and '.' written as '_' (and a number added where two names then clash).
    /// </summary>
    public static IReadOnlyDictionary<string, string> SliceFiles(IEnumerable<string> names)
    {
        var files = new OrderedDictionary<string, string>();
        var taken = new HashSet<string>(StringComparer.OrdinalIgnoreCase); // case-insensitive file systems
        foreach (string name in names.Distinct().Order(StringComparer.Ordinal))
        {
            var safe = new StringBuilder();
            foreach (char c in name) safe.Append(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_');
            string stem = $"slice_{safe}", file = stem + ".png";
            for (int k = 2; !taken.Add(file); k++) file = $"{stem}_{k}.png";
            files[name] = file;
        }
        return files;
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
        else Note(plot, "no complete trial yet");
        plot.Title($"Optimization history: {study.Name}");
        plot.XLabel("trial");
        plot.YLabel("objective value");
        plot.ShowLegend(study.Direction == StudyDirection.Minimize ? Alignment.UpperRight : Alignment.LowerRight);
        return plot;
    }

    /// <summary>
    /// The values each trial reported, against step: one line per trial, coloured by state; a pruned trial's line is
    /// dashed and ends in a cross at the step where it was stopped.
    /// </summary>
    public static Plot IntermediateValues(Study study, IReadOnlyList<FrozenTrial> trials)
    {
        var plot = new Plot();
        var legend = new HashSet<TrialState>();
        var reported = trials.Where(t => t.IntermediateValues.Count > 0).OrderBy(t => t.Number).ToList();
        foreach (var t in reported)
        {
            // Trial.Report keeps a diverged (non-finite) value as ±double.MaxValue: left out, it would flatten the rest.
            var points = t.IntermediateValues.Where(p => double.IsFinite(p.Value) && Math.Abs(p.Value) < double.MaxValue).OrderBy(p => p.Key).ToList();
            if (points.Count == 0) continue;
            var (color, pattern, label) = t.State switch
            {
                TrialState.Complete => (CompleteColor, LinePattern.Solid, "complete"),
                TrialState.Pruned => (PrunedColor, LinePattern.Dashed, "pruned (× where stopped)"),
                TrialState.Fail => (FailColor, LinePattern.Dotted, "failed"),
                _ => (RunningColor, LinePattern.Dotted, "running"),
            };
            var line = plot.Add.Scatter(points.Select(p => (double)p.Key).ToArray(), points.Select(p => p.Value).ToArray(), color.WithAlpha(0.75));
            line.LinePattern = pattern;
            line.LineWidth = 1.5f;
            line.MarkerSize = points.Count <= 30 ? 4 : 0;
            if (legend.Add(t.State)) line.LegendText = label;
            if (t.State == TrialState.Pruned)
            {
                var end = plot.Add.Marker(points[^1].Key, points[^1].Value, MarkerShape.Eks, 10, PrunedColor);
                end.MarkerLineWidth = 2;
            }
        }
        if (legend.Count == 0) Note(plot, "no trial reported intermediate values");
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.Title($"Intermediate values: {study.Name}");
        plot.XLabel("step");
        plot.YLabel("reported value");
        plot.ShowLegend(study.Direction == StudyDirection.Minimize ? Alignment.UpperRight : Alignment.LowerRight);
        return plot;
    }

    /// <summary>
    /// The objective of each complete trial against parameter <paramref name="name"/>, the best trial marked: a log
    /// axis (ticks at powers of ten) for log-scaled parameters, one position per choice for categoricals.
    /// </summary>
    public static Plot Slice(Study study, IReadOnlyList<FrozenTrial> trials, string name)
    {
        var plot = new Plot();
        var dist = trials.LastOrDefault(t => t.Distributions.ContainsKey(name))?.Distributions[name];
        bool log = dist is FloatDistribution { Log: true } or IntDistribution { Log: true };
        var points = trials.Where(t => t.State == TrialState.Complete && t.Value is { } v && double.IsFinite(v) && t.InternalParams.ContainsKey(name))
            .OrderBy(t => t.Number).ToList();
        double X(FrozenTrial t) => log ? Math.Log10(t.InternalParams[name]) : t.InternalParams[name];
        if (points.Count > 0)
        {
            var all = plot.Add.Markers(points.Select(X).ToArray(), points.Select(t => t.Value!.Value).ToArray(), MarkerShape.FilledCircle, 7,
                CompleteColor.WithAlpha(0.6));
            all.LegendText = "complete trial";
            var best = points.Aggregate((a, b) => study.Direction.IsBetter(b.Value!.Value, a.Value!.Value) ? b : a);
            var star = plot.Add.Marker(X(best), best.Value!.Value, MarkerShape.FilledDiamond, 12, BestColor);
            star.LegendText = $"best (trial {best.Number})";
        }
        else Note(plot, "no complete trial has this parameter");

        switch (dist)
        {
            case CategoricalDistribution c:
                plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                    [.. Enumerable.Range(0, c.Choices.Count).Select(i => (double)i)], [.. c.Choices.Select(ChoiceLabel)]);
                plot.Axes.SetLimitsX(-0.5, c.Choices.Count - 0.5);
                break;
            case FloatDistribution { Log: true } f:
                LogTicks(plot.Axes.Bottom, f.Low, f.High);
                WholeRange(plot, Math.Log10(f.Low), Math.Log10(f.High));
                break;
            case IntDistribution { Log: true } i:
                LogTicks(plot.Axes.Bottom, i.Low, i.High);
                WholeRange(plot, Math.Log10(i.Low), Math.Log10(i.High));
                break;
            case FloatDistribution f:
                WholeRange(plot, f.Low, f.High);
                break;
            case IntDistribution i:
                plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
                WholeRange(plot, i.Low, i.High);
                break;
        }
        plot.Title($"Slice: {name}");
        plot.XLabel(log ? $"{name} (log scale)" : name);
        plot.YLabel("objective value");
        plot.ShowLegend(study.Direction == StudyDirection.Minimize ? Alignment.UpperRight : Alignment.LowerRight);
        return plot;
    }

    /// <summary>Importance as horizontal bars, the most important on top, each labelled with its share.</summary>
    public static Plot Importance(Study study, IReadOnlyDictionary<string, double> importance, int completeTrials)
    {
        var plot = new Plot();
        var items = importance.Reverse().ToList(); // bars are drawn bottom-up
        if (items.Count > 0)
        {
            var bars = items.Select((p, i) => new Bar
            {
                Position = i, Value = p.Value, FillColor = CompleteColor, LineWidth = 0,
                Label = p.Value.ToString("0.00", CultureInfo.InvariantCulture), CenterLabel = false,
            }).ToArray();
            var plottable = plot.Add.Bars(bars);
            plottable.Horizontal = true;
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
                [.. items.Select((_, i) => (double)i)], [.. items.Select(p => p.Key)]);
            plot.Axes.SetLimits(0, Math.Max(0.05, items.Max(p => p.Value)) * 1.15, -0.6, items.Count - 0.4);
            if (items.All(p => p.Value == 0)) Note(plot, "the objective has the same value in every complete trial");
        }
        else
        {
            Note(plot, completeTrials < 2 ? "needs at least 2 complete trials" : "no parameter with more than one value");
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual();
            plot.Axes.SetLimits(0, 1, 0, 1);
        }
        plot.Title($"Parameter importance (fANOVA, {completeTrials} complete trials): {study.Name}");
        plot.XLabel("share of the objective's variance explained by each parameter alone");
        return plot;
    }

    /// <summary>The x axis spans the whole search range (as the latest trial's distribution has it), so unexplored parts show.</summary>
    static void WholeRange(Plot plot, double low, double high)
    {
        if (!(high > low)) return;
        double margin = (high - low) * 0.03;
        plot.Axes.SetLimitsX(low - margin, high + margin);
    }

    /// <summary>Ticks for an axis holding log10 of values in [low, high]: 1, 2 and 5 × 10^k for short ranges, 10^k otherwise.</summary>
    static void LogTicks(IAxis axis, double low, double high)
    {
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        double lo = Math.Log10(low), hi = Math.Log10(high);
        double[] mantissas = hi - lo <= 2 ? [1, 2, 5] : [1];
        int every = hi - lo > 8 ? 2 : 1;
        for (int k = (int)Math.Floor(lo); k <= (int)Math.Ceiling(hi); k++)
            foreach (double m in mantissas)
            {
                double at = Math.Log10(m) + k;
                if (at < lo - 1e-9 || at > hi + 1e-9) continue;
                if (m == 1 && k % every == 0 || m != 1) ticks.AddMajor(at, LogLabel(m * Math.Pow(10, k)));
                else ticks.AddMinor(at);
            }
        for (int k = (int)Math.Floor(lo); k <= (int)Math.Ceiling(hi); k++)
            for (int m = 2; m <= 9; m++)
                if (!mantissas.Contains(m) && Math.Log10(m) + k is var at && at >= lo && at <= hi) ticks.AddMinor(at);
        axis.TickGenerator = ticks;
    }

    /// <summary>Whole numbers up to 10^5 as they are (batch sizes), others in one scientific style (1e-3, 2e-4).</summary>
    static string LogLabel(double v) =>
        v >= 1 && v < 1e5 && Math.Abs(v - Math.Round(v)) < 1e-9 * v
            ? Math.Round(v).ToString(CultureInfo.InvariantCulture)
            : v.ToString("0.##e+0", CultureInfo.InvariantCulture);

    static string ChoiceLabel(object? choice) => choice switch
    {
        null => "null",
        bool b => b ? "true" : "false",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => choice.ToString() ?? "",
    };

    /// <summary>A note in the middle of an empty chart, saying why it is empty.</summary>
    static void Note(Plot plot, string text)
    {
        var a = plot.Add.Annotation(text, Alignment.MiddleCenter);
        a.LabelFontSize = 16;
    }

    static void Save(Plot plot, string path) => PlotFiles.Save(plot, path, Width, Height);
}
