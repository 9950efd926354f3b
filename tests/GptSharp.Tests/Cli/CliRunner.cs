using GptSharp.Cli.Commands;

namespace GptSharp.Tests.Cli;

/// <summary>Runs `gptsharp` in-process and captures what it prints.</summary>
static class CliRunner
{
    public static async Task<(int Code, string Out, string Err)> Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = await CliApp.RunAsync(args, o, e);
        return (code, o.ToString(), e.ToString());
    }
}
