using GptSharp.Cli;
using GptSharp.Native;

if (TcmallocRelaunch.Run(args) is int code) return code;
return await CliApp.RunAsync(args, Console.Out, Console.Error);
