using System.CommandLine;
using GptSharp.Cli.Commands;
using GptSharp.Native;

namespace GptSharp.Cli.Commands;

/// <summary>The `gptsharp` command tree. A thin shell: parse, call the library, present the result.</summary>
public static class CliApp
{
    public static readonly Option<bool> Verbose = new("--verbose") { Description = "Show stack traces and native runtime details.", Recursive = true };

    /// <summary>The commands that load a model to decode with it and train nothing.</summary>
    public static bool OnlyDecodes(string[] args) => args is ["generate" or "chat" or "serve" or "eval" or "compare", ..];

    /// <summary>The command lines that never load libtorch: the tuner's ask, tell and report, which only talk to a study's storage.</summary>
    public static bool NeedsNoTorch(string[] args) => args is ["tune", "ask" or "tell" or "report", ..] && !args.Contains("--verbose");

    public static RootCommand Build()
    {
        var root = new RootCommand("GptSharp: build, train, fine-tune and run GPT chat models on .NET.") { Verbose };
        foreach (var c in CommandCatalog.All()) root.Subcommands.Add(c);
        return root;
    }

    /// <summary>Runs one command line; returns the process exit code. Errors are printed, never thrown.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken ct = default)
    {
        var parse = Build().Parse(args);
        // Ctrl+C cancels the action's token; give it time to save a checkpoint before the process is ended.
        var config = new InvocationConfiguration
        {
            Output = output, Error = error, EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = TimeSpan.FromMinutes(2),
        };
        // Parse errors (unknown option or command, missing or bad value) get one `error:` line, not the whole help.
        if (parse.Action is System.CommandLine.Invocation.ParseErrorAction)
        {
            foreach (var line in ParseErrors.Describe(parse)) await error.WriteLineAsync(line);
            return 1;
        }
        try
        {
            if (parse.GetValue(Verbose))
            {
                GptSharp.Native.TorchRuntime.Initialize();
                foreach (var (k, v) in GptSharp.Native.TorchRuntime.Report) await error.WriteLineAsync($"native: {k} = {v}");
            }
            return await parse.InvokeAsync(config, ct);
        }
        catch (Exception e) when (e is GptSharpException or OperationCanceledException or IOException or UnauthorizedAccessException
                                      or System.Text.Json.JsonException or InvalidDataException)
        {
            await error.WriteLineAsync(e is OperationCanceledException ? "cancelled" : $"error: {e.Message}");
            if (parse.GetValue(Verbose)) await error.WriteLineAsync(e.ToString());
            return e is OperationCanceledException ? 130 : 1;
        }
        catch (Exception e)
        {
            await error.WriteLineAsync($"internal error: {e.Message} (run with --verbose for details)");
            if (parse.GetValue(Verbose)) await error.WriteLineAsync(e.ToString());
            return 2;
        }
    }
}
