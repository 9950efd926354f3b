using GptSharp.Native;
using GptSharp.Cli.Commands;

// Before this line runs, the process may have restarted itself in place with its allocator set up (Native/AllocatorRelaunch.cs).

// Commands that never touch libtorch skip loading it (most of their start-up): `tune ask` must answer in well under a second.
if (CliApp.NeedsNoTorch(args)) AppContext.SetSwitch(TorchRuntime.DeferSwitch, true);
// Commands that only decode stream every weight per token: their tensors go on 2 MiB pages (Native/HugePages.cs).
if (CliApp.OnlyDecodes(args)) AppContext.SetSwitch(TorchRuntime.HugePageTensorsSwitch, true);

return await CliApp.RunAsync(args, Console.Out, Console.Error);
