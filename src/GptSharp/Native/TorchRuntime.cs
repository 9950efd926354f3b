using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using TorchSharp;

namespace GptSharp.Native;

/// <summary>
/// Prepares the native side before TorchSharp's first call: allocator tuning, the libstdc++ compatibility
/// patch and MKL's CPU dispatch. Runs automatically when GptSharp is first used; idempotent and thread-safe.
/// This folder is the only place in GptSharp that knows about any of it.
/// </summary>
public static class TorchRuntime
{
    static readonly Lock Gate = new();
    static bool _done;

    /// <summary>What each fix did on this machine, for benchmark reports and <c>--verbose</c>.</summary>
    public static IReadOnlyDictionary<string, string> Report { get; private set; } = new Dictionary<string, string>();

    /// <summary>libtorch_cpu's handle once loaded here (0 elsewhere), for the kernels TorchSharp does not bind.</summary>
    internal static nint LibTorchCpu { get; private set; }

    /// <summary>
    /// An <see cref="AppContext"/> switch a program sets before it first uses GptSharp when it will not touch libtorch at
    /// all (say, a command that only talks to a tuning study): loading libtorch is most of such a process's start-up.
    /// It then calls <see cref="Initialize"/> itself before any tensor work.
    /// </summary>
    public const string DeferSwitch = "GptSharp.Native.TorchRuntime.Deferred";

    /// <summary>
    /// An <see cref="AppContext"/> switch a program that only decodes (generate, chat, a server) sets before it first
    /// uses GptSharp: libtorch's tensors of 2 MiB and more then go on 2 MiB pages, as the onnx engine's own buffers do
    /// (see <c>HugePages</c>). Left off where a process trains.
    /// </summary>
    public const string HugePageTensorsSwitch = "GptSharp.Native.TorchRuntime.HugePageTensors";

#pragma warning disable CA2255 // a library module initializer is the point: it must run before TorchSharp loads
    [ModuleInitializer]
    internal static void OnLoad()
    {
        if (!(AppContext.TryGetSwitch(DeferSwitch, out bool deferred) && deferred)) Initialize();
    }
#pragma warning restore CA2255

    public static void Initialize()
    {
        lock (Gate)
        {
            if (_done) return;
            _done = true;
            var report = new Dictionary<string, string>();
            Allocator.Tune();
            report["huge pages"] = HugePages.EnableForTorch(AppContext.TryGetSwitch(HugePageTensorsSwitch, out bool tensors) && tensors); // before libtorch's first allocation reads it
            report["allocator"] = Allocator.Detail.Length == 0 ? Allocator.Current : $"{Allocator.Current} ({Allocator.Detail})";
            if (OperatingSystem.IsLinux() && NativeDirectory() is { } dir)
            {
                string torchSharp = Path.Combine(dir, "libLibTorchSharp.so");
                if (File.Exists(torchSharp))
                    report["libstdc++"] = LibStdCxxCompat.EnsureLoadable(torchSharp);
                string cpu = Path.Combine(dir, "libtorch_cpu.so");
                if (File.Exists(cpu) && NativeLibrary.TryLoad(cpu, out nint handle))
                {
                    LibTorchCpu = handle;
                    report["mkl"] = Environment.GetEnvironmentVariable("GPTSHARP_MKL_DISPATCH") is "stock"
                        ? "stock (GPTSHARP_MKL_DISPATCH=stock)"
                        : MklCpuDispatch.Apply(handle);
                }
            }
            report["threads"] = torch.get_num_threads().ToString();
            Report = report;
        }
    }

    /// <summary>The folder holding libtorch and LibTorchSharp as the build laid them out.</summary>
    static string? NativeDirectory()
    {
        string rid = RuntimeInformation.ProcessArchitecture == Architecture.Arm64 ? "linux-arm64" : "linux-x64";
        string torchDir = Path.GetDirectoryName(typeof(torch).Assembly.Location) ?? AppContext.BaseDirectory;
        foreach (var baseDir in new[] { AppContext.BaseDirectory, torchDir }.Distinct())
            foreach (var d in new[] { Path.Combine(baseDir, "runtimes", rid, "native"), baseDir })
                if (File.Exists(Path.Combine(d, "libtorch_cpu.so")) || File.Exists(Path.Combine(d, "libLibTorchSharp.so")))
                    return d;
        return null;
    }
}
