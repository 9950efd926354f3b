using System.Collections.Concurrent;
using System.Globalization;
using GptSharp.Training;
using Spectre.Console;

namespace GptSharp.Cli.Progress;

/// <summary>
/// Shows a training run: a live bar (step, loss, tokens/s, ETA) on a terminal, or one plain line per logging step,
/// evaluation and checkpoint otherwise. The trainer reports from its own thread; only this class touches the console.
/// </summary>
static class TrainingProgressView
{
    public static Task<TrainingResult> RunAsync(Func<IProgress<TrainingProgress>, Task<TrainingResult>> run, int maxSteps, TextWriter output) =>
        Terminal.IsInteractive(output) ? RunLiveAsync(run, maxSteps) : run(new PlainLog(TextWriter.Synchronized(output)));

    static async Task<TrainingResult> RunLiveAsync(Func<IProgress<TrainingProgress>, Task<TrainingResult>> run, int maxSteps)
    {
        var sink = new LatestProgress();
        return await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var bar = ctx.AddTask("starting", maxValue: maxSteps);
                var training = run(sink);
                while (true)
                {
                    while (sink.Lines.TryDequeue(out var line)) AnsiConsole.MarkupLine(Markup.Escape(line));
                    if (sink.Last is { } p)
                    {
                        bar.Value = p.Step;
                        bar.Description = Markup.Escape(Describe(p, sink.ValLoss));
                    }
                    if (training.IsCompleted) break;
                    await Task.WhenAny(training, Task.Delay(200));
                }
                return await training;
            });
    }

    static string Describe(TrainingProgress p, double? valLoss) =>
        string.Create(CultureInfo.InvariantCulture,
            $"step {p.Step}/{p.MaxSteps} | loss {p.Loss:F4}{(valLoss is { } v ? $" | val {v:F4}" : "")}{Batch(p)} | {Terminal.Rate(p.TokensPerSecond)} tok/s | " +
            $"eta {(p.Eta is { } eta ? Terminal.Duration(eta) : "?")}");

    /// <summary>" | batch N" while a batch_size_schedule changes the batch, else nothing.</summary>
    static string Batch(TrainingProgress p) => p.BatchSize is { } b ? $" | batch {b}" : "";

    /// <summary>Lines worth keeping in the scrollback: evaluations, checkpoints, messages.</summary>
    static string? Line(TrainingProgress p) => p.Event switch
    {
        TrainingEvent.Evaluation => string.Create(CultureInfo.InvariantCulture, $"step {p.Step} | val_loss {p.ValLoss:F4} | val_ppl {Math.Exp(p.ValLoss ?? double.NaN):F2}"),
        TrainingEvent.Checkpoint => $"saved {p.Path}",
        TrainingEvent.Message => p.Message,
        _ => null,
    };

    sealed class LatestProgress : IProgress<TrainingProgress>
    {
        public volatile TrainingProgress? Last, LastEvaluation;
        public double? ValLoss => LastEvaluation?.ValLoss;
        public readonly ConcurrentQueue<string> Lines = new();

        public void Report(TrainingProgress p)
        {
            if (p.Event == TrainingEvent.Step) Last = p;
            if (p.Event == TrainingEvent.Evaluation) LastEvaluation = p;
            if (Line(p) is { } line) Lines.Enqueue(line);
        }
    }

    sealed class PlainLog(TextWriter output) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p)
        {
            if (p.Event == TrainingEvent.Step && p.Logged)
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"step {p.Step}/{p.MaxSteps} | loss {p.Loss:F4} | lr {p.LearningRate:0.00e+00}{Batch(p)} | {p.TokensPerSecond:F0} tok/s | " +
                    $"elapsed {Terminal.Duration(p.Elapsed)} | eta {(p.Eta is { } eta ? Terminal.Duration(eta) : "?")}"));
            else if (Line(p) is { } line)
                output.WriteLine(line);
        }
    }
}
