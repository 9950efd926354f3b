using System.Diagnostics;
using System.Reflection;

namespace GptSharp.Cli.Commands;

/// <summary>This program started again as a child process (tune's workers, cv's fold processes), its output redirected.</summary>
static class SelfProcess
{
    public static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        var cli = typeof(SelfProcess).Assembly;
        string exe = Environment.ProcessPath ?? throw new GptSharpException("cannot find this program's path to start child processes");
        var info = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (Assembly.GetEntryAssembly() == cli)
        {
            info.FileName = exe;
            // Run as `dotnet GptSharp.Cli.dll`: the child needs the dll too.
            if (Path.GetFileNameWithoutExtension(exe) == "dotnet") info.ArgumentList.Add(cli.Location);
        }
        else
        {
            // Hosted by another program (a test runner): its executable is not this one; start the apphost beside the dll, or dotnet with it.
            string apphost = Path.Combine(Path.GetDirectoryName(cli.Location)!, Path.GetFileNameWithoutExtension(cli.Location));
            if (File.Exists(apphost)) info.FileName = apphost;
            else
            {
                info.FileName = Path.GetFileNameWithoutExtension(exe) == "dotnet" ? exe : "dotnet";
                info.ArgumentList.Add(cli.Location);
            }
        }
        foreach (var a in args) info.ArgumentList.Add(a);
        return info;
    }
}
