using GptSharp.Native;
using GptSharp.Cli.Commands;

// Before this line runs, the process may have restarted itself in place with its allocator set up (Native/AllocatorRelaunch.cs).

return await CliApp.RunAsync(args, Console.Out, Console.Error);
