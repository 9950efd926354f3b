using System.Globalization;
using GptSharp.Cli.Progress;
using GptSharp.Evaluation;
using Spectre.Console;

namespace GptSharp.Cli.Report;

/// <summary>
/// `compare`'s table: a row per figure, a column per model, each cell the value and its ratio to the first model's.
/// Drawn with Spectre.Console on any writer (plain characters, no colour, wide, when it is not a terminal).
/// </summary>
static class ComparisonTable
{
    /// <summary>The figures the report has: reply scores only for dialogues.</summary>
    public static IEnumerable<ComparisonFigure> Figures(ComparisonReport report) =>
        ComparisonFigure.All.Where(f => report.Models.Any(m => f.Get(m) is not null));

    public static Table Create(ComparisonReport report)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title(Markup.Escape($"{report.Dataset}{(report.Text ? " (text)" : "")}: ratios to {report.Models[0].Label}"));
        table.AddColumn("");
        foreach (var m in report.Models) table.AddColumn(new TableColumn(Markup.Escape($"{m.Label} ({m.Setting()})")).RightAligned());
        foreach (var f in Figures(report))
        {
            string arrow = f.HigherIsBetter switch { true => " ↑", false => " ↓", null => "" };
            table.AddRow([new Text(f.Label + arrow), .. report.Models.Select(m => new Text(Cell(f, m)))]);
        }
        return table;
    }

    static string Cell(ComparisonFigure f, ModelFigures m) =>
        f.Get(m) is not { } v ? "-"
        : m.Ratios?.GetValueOrDefault(f.Key) is { } r ? $"{f.Format(v)}  ×{r.ToString("F2", CultureInfo.InvariantCulture)}"
        : f.Format(v);

    public static void Write(ComparisonReport report, TextWriter output)
    {
        bool terminal = Terminal.IsInteractive(output);
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(output),
            Ansi = terminal ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = terminal ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = InteractionSupport.No,
        });
        if (!terminal) console.Profile.Width = 200; // a file or a pipe: never wrap a model's column
        console.Write(Create(report));
    }
}
