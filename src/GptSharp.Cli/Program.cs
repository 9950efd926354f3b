using GptSharp.Cli;
using GptSharp.Native;

// Before this line runs, the process may have restarted itself in place with its allocator set up (Native/AllocatorRelaunch.cs).

return await CliApp.RunAsync(args, Console.Out, Console.Error);
