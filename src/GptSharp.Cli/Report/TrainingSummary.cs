using System.Globalization;
using GptSharp.Training;

namespace GptSharp.Cli.Report;

/// <summary>A run in a few numbers: where validation was best, where training ended, how fast it went.</summary>
public sealed record TrainingSummary
{
    public int? FinalStep { get; init; }
    public double? FinalLoss { get; init; }
    public double? FinalValLoss { get; init; }
    /// <summary>The evaluation step with the lowest validation loss (the first such step on ties).</summary>
    public int? BestStep { get; init; }
    public double? BestValLoss { get; init; }
    /// <summary>Mean of the logged tokens/s figures (each covers one logging window of equal step count).</summary>
    public double? MeanTokensPerSecond { get; init; }
    /// <summary>The largest elapsed time logged: wall-clock training time, evaluation included.</summary>
    public TimeSpan? TotalTime { get; init; }
    /// <summary>The first and last logged effective batch (they differ under a batch_size_schedule).</summary>
    public (int First, int Last)? BatchSize { get; init; }

    public static TrainingSummary From(TrainingHistory h)
    {
        var last = h.Train.MaxBy(p => p.Step);
        var best = h.Eval.Count == 0 ? null : h.Eval.Aggregate((a, b) => b.ValLoss < a.ValLoss ? b : a);
        var rates = h.Train.Where(p => p.TokensPerSecond is not null).Select(p => p.TokensPerSecond!.Value).ToList();
        var elapsed = h.Train.Select(p => p.Elapsed).Concat(h.Eval.Select(p => p.Elapsed)).Where(e => e is not null).Select(e => e!.Value).ToList();
        return new TrainingSummary
        {
            FinalStep = last?.Step,
            FinalLoss = last?.Loss,
            FinalValLoss = h.Eval.MaxBy(p => p.Step)?.ValLoss,
            BestStep = best?.Step,
            BestValLoss = best?.ValLoss,
            MeanTokensPerSecond = rates.Count > 0 ? rates.Average() : null,
            TotalTime = elapsed.Count > 0 ? TimeSpan.FromSeconds(elapsed.Max()) : null,
            BatchSize = h.Train.Where(p => p.BatchSize is not null).OrderBy(p => p.Step).Select(p => p.BatchSize!.Value).ToList() is { Count: > 0 } b
                ? (b[0], b[^1]) : null,
        };
    }

    /// <summary>(label, value) rows, "-" where a figure is unknown; used by the plain and the table views.</summary>
    public IReadOnlyList<(string Label, string Value)> Rows() =>
    [
        ("final step", FinalStep?.ToString(CultureInfo.InvariantCulture) ?? "-"),
        ("final loss", Fmt(FinalLoss)),
        ("final val loss", Fmt(FinalValLoss)),
        ("best step", BestStep?.ToString(CultureInfo.InvariantCulture) ?? "-"),
        ("best val loss", BestValLoss is { } b ? $"{Fmt(b)} (ppl {Fmt(Math.Exp(b), "F2")})" : "-"),
        ("batch size", BatchSize is { } bs ? (bs.First == bs.Last ? $"{bs.First}" : $"{bs.First} → {bs.Last} (batch_size_schedule)") : "-"),
        ("mean tokens/s", MeanTokensPerSecond?.ToString("F0", CultureInfo.InvariantCulture) ?? "-"),
        ("total time", TotalTime is { } t ? Duration(t) : "-"),
    ];

    /// <summary>The rows as aligned plain text, one per line.</summary>
    public string Format()
    {
        var rows = Rows();
        int width = rows.Max(r => r.Label.Length);
        return string.Concat(rows.Select(r => $"{r.Label.PadRight(width)}  {r.Value}\n"));
    }

    static string Fmt(double? x, string format = "F4") => x?.ToString(format, CultureInfo.InvariantCulture) ?? "-";

    static string Duration(TimeSpan t) =>
        t.TotalHours >= 1 ? $"{(int)t.TotalHours}:{t.Minutes:D2}:{t.Seconds:D2}" : $"{t.Minutes}:{t.Seconds:D2}.{t.Milliseconds / 100}";
}
