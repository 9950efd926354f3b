using Spectre.Console;
using GptSharp.Data.Shards;

namespace GptSharp.Cli.Progress;

/// <summary>Shows data preparation: a live bar over the input bytes on a terminal, a line per input file otherwise.</summary>
static class PrepareProgressView
{
    public static Task<DatasetMeta> RunAsync(Func<IProgress<PrepareProgress>, Task<DatasetMeta>> run, TextWriter output) =>
        Terminal.IsInteractive(output) ? RunLiveAsync(run) : run(new PlainLog(TextWriter.Synchronized(output)));

    static async Task<DatasetMeta> RunLiveAsync(Func<IProgress<PrepareProgress>, Task<DatasetMeta>> run)
    {
        PrepareProgress? last = null;
        var sink = new Progress(p => last = p);
        return await AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async ctx =>
            {
                var bar = ctx.AddTask("reading", maxValue: 1);
                var preparing = run(sink);
                while (true)
                {
                    if (last is { } p)
                    {
                        bar.MaxValue = Math.Max(1, p.TotalBytes);
                        bar.Value = p.BytesRead;
                        bar.Description = Markup.Escape($"{Path.GetFileName(p.File)} | {p.Documents:N0} documents | {p.Tokens:N0} tokens");
                    }
                    if (preparing.IsCompleted) break;
                    await Task.WhenAny(preparing, Task.Delay(200));
                }
                return await preparing;
            });
    }

    sealed class Progress(Action<PrepareProgress> report) : IProgress<PrepareProgress>
    {
        public void Report(PrepareProgress value) => report(value);
    }

    sealed class PlainLog(TextWriter output) : IProgress<PrepareProgress>
    {
        public void Report(PrepareProgress p)
        {
            if (p.FileDone)
                output.WriteLine($"{p.File}: done ({Terminal.Bytes(p.BytesRead)} of {Terminal.Bytes(p.TotalBytes)} read, {p.Documents:N0} documents, {p.Tokens:N0} tokens so far)");
        }
    }
}
