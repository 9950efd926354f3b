using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using GptSharp.Cli.Report;
using GptSharp.Training;
using GptSharp.Training.Advisors;

namespace GptSharp.Cli.Commands;

/// <summary>
/// `gptsharp lr-find`: the learning-rate range test on a pretraining config or a fine-tuning job; prints the suggestions,
/// writes lr_find.png and lr_find.json. Every input is checked before anything is written.
/// </summary>
static class LrFindCommand
{
    public const string DefaultOutput = "lr-find", JsonFile = "lr_find.json";

    public static Command Create()
    {
        var defaults = new LearningRateRangeOptions();
        var job = new AdvisorJob("lr-find", "--set optim=sgd --set per_device_train_batch_size=16");
        var start = new Option<double>("--start") { Description = "The first learning rate of the exponential ramp.", DefaultValueFactory = _ => defaults.Start };
        var end = new Option<double>("--end") { Description = "The last learning rate of the ramp.", DefaultValueFactory = _ => defaults.End };
        var steps = new Option<int>("--steps")
        {
            Description = $"Optimizer steps, one per learning rate (at least {LearningRateRangeOptions.MinSteps}).", DefaultValueFactory = _ => defaults.Steps,
        };
        var output = new Option<string>("--output")
        {
            Description = $"Directory for {LearningRatePlot.FileName} and {JsonFile} (default: {DefaultOutput}/ in the current directory).",
            DefaultValueFactory = _ => DefaultOutput,
        };
        var cmd = new Command("lr-find", "Learning-rate range test (Smith 2015, fastai's lr_find): trains with an exponentially growing learning rate " +
                                         "on the job's real data and optimizer until the loss diverges, then suggests a learning_rate (valley, steepest, " +
                                         "minimum/10). The model is restored and no run is written; only the plot and the JSON.")
            { start, end, steps, output };
        foreach (var o in job.Options) cmd.Options.Add(o);
        cmd.SetAction(async (p, ct) =>
        {
            var w = p.InvocationConfiguration.Output;
            var range = new LearningRateRangeOptions { Start = p.GetValue(start), End = p.GetValue(end), Steps = p.GetValue(steps) }.Validate();
            string outDir = p.GetValue(output)!;
            AdvisorJob.CheckOutput(outDir);
            var progress = new Progress(w, range.Steps);
            var result = await job.RunAsync(p, outDir, w,
                plan => { LearningRateFinder.CheckData(plan); return LearningRateFinder.Run(plan, range, progress, ct); },
                plan => { LearningRateFinder.CheckData(plan); return LearningRateFinder.Run(plan, range, progress, ct); }, ct);
            Print(result, w);
            AdvisorJob.WriteResults(outDir, dir => LearningRatePlot.Render(result, dir), JsonFile, ToJson(result), w);
            return 0;
        });
        return cmd;
    }

    /// <summary>A line every tenth of the ramp, synchronously (the test runs on one thread).</summary>
    sealed class Progress(TextWriter w, int steps) : IProgress<LearningRatePoint>
    {
        readonly int _every = Math.Max(1, steps / 10);
        public void Report(LearningRatePoint p)
        {
            if (p.Step % _every == 0 || p.Step == steps)
                w.WriteLine(FormattableString.Invariant($"step {p.Step,4}/{steps}  lr {LearningRatePlot.Format(p.LearningRate),-8}  loss {p.Loss:F4}  smoothed {p.SmoothedLoss:F4}"));
        }
    }

    static string StopText(LearningRateRangeResult r) => r.Stop switch
    {
        LearningRateRangeStop.Diverged => $"stopped at step {r.Points.Count}: the smoothed loss passed {r.Options.DivergenceFactor:G}× its best",
        LearningRateRangeStop.NotFinite => $"stopped at step {r.Points.Count}: the loss is not finite",
        _ => $"ran all {r.Points.Count} steps without diverging (raise --end to see where it does)",
    };

    static void Print(LearningRateRangeResult r, TextWriter w)
    {
        w.WriteLine(StopText(r));
        if (r.Suggestions.Count == 0)
        {
            w.WriteLine("no suggestion: too few finite points on the curve; raise --steps or lower --start");
            return;
        }
        w.WriteLine();
        w.WriteLine($"{"suggestion",-12}  {"learning_rate",-13}  step");
        foreach (var s in r.Suggestions)
            w.WriteLine($"{s.Method,-12}  {LearningRatePlot.Format(s.LearningRate),-13}  {s.Step,4}{(s == r.Recommended ? "   <- recommended" : "")}");
        w.WriteLine();
        w.WriteLine($"put it in your config:  \"learning_rate\": {Number(r.Recommended!.LearningRate)}");
    }

    static string Number(double v) => v.ToString("G3", CultureInfo.InvariantCulture).ToLowerInvariant();

    static JsonNode? Finite(double v) => double.IsFinite(v) ? JsonValue.Create(v) : null;

    static JsonObject ToJson(LearningRateRangeResult r) => new()
    {
        ["start"] = r.Options.Start,
        ["end"] = r.Options.End,
        ["steps"] = r.Options.Steps,
        ["beta"] = r.Options.Beta,
        ["stop"] = r.Stop switch { LearningRateRangeStop.Diverged => "diverged", LearningRateRangeStop.NotFinite => "not_finite", _ => "completed" },
        ["recommended"] = r.Recommended is { } rec ? JsonValue.Create(rec.LearningRate) : null,
        ["suggestions"] = new JsonArray([.. r.Suggestions.Select(s => (JsonNode)new JsonObject
        {
            ["method"] = s.Method, ["learning_rate"] = s.LearningRate, ["step"] = s.Step,
        })]),
        ["points"] = new JsonArray([.. r.Points.Select(pt => (JsonNode)new JsonObject
        {
            ["step"] = pt.Step, ["learning_rate"] = pt.LearningRate, ["loss"] = Finite(pt.Loss), ["smoothed_loss"] = Finite(pt.SmoothedLoss),
        })]),
    };
}
