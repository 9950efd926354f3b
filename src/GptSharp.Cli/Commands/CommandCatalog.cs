using System.CommandLine;

namespace GptSharp.Cli.Commands;

/// <summary>Every top-level command, in the order `--help` lists them. Each lives in its own file.</summary>
static class CommandCatalog
{
    public static IEnumerable<Command> All() =>
    [
        QuickstartCommand.Create(),
        TokenizerCommand.Create(),
        TokenizeCommand.Create(),
        DataCommand.Create(),
        TrainCommand.Create(),
        FinetuneCommand.Create(),
        DistillCommand.Create(),
        LrFindCommand.Create(),
        FindBatchSizeCommand.Create(),
        CvCommand.Create(),
        EvalCommand.Create(),
        CompareCommand.Create(),
        ScoreCommand.Create(),
        GenerateCommand.Create(),
        ChatCommand.Create(),
        ServeCommand.Create(),
        QuantizeCommand.Create(),
        ExportCommand.Create(),
        ReportCommand.Create(),
        TuneCommand.Create(),
    ];
}
