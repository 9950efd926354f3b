using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace GptSharp.Native;

/// <summary>
/// Restarts an executable once, in place, with its allocator chosen (see <c>Allocator</c>): tcmalloc preloaded when
/// Debian's libtcmalloc-minimal4 is installed, else glibc's malloc tuned through <c>GLIBC_TUNABLES</c>. Both must be in
/// the environment when the process starts, so the process replaces its own image (<c>execve</c> of /proc/self/exe
/// with the same arguments): the PID stays, so signals, exit codes and process managers see one ordinary process.
/// Compiled into every executable of the repo (Directory.Build.targets) and run by a module initializer, before Main
/// and before any GptSharp or libtorch code.
/// </summary>
static partial class AllocatorRelaunch
{
    /// <summary>Set in the relaunched image (to what it chose), so that the relaunch happens once.</summary>
    const string Marker = "GPTSHARP_RELAUNCHED";

    /// <summary>
    /// glibc's malloc set up for libtorch's large, short-lived buffers (measured in bench/README.md): one arena, large
    /// blocks from the heap instead of fresh mmaps, freed memory kept mapped. Not <c>hugetlb=1</c>: it removes the page
    /// faults but, where THP defrag is "madvise" (Debian's default), faults then compact memory and gpt2 trains slower.
    /// </summary>
    const string GlibcTunables =
        "glibc.malloc.arena_max=1:glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=4294967295:glibc.malloc.top_pad=67108864";

    static readonly string[] Tcmalloc =
    [
        "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4", "/usr/lib/aarch64-linux-gnu/libtcmalloc_minimal.so.4",
        "/usr/lib64/libtcmalloc_minimal.so.4", "/usr/lib/libtcmalloc_minimal.so.4",
    ];

#pragma warning disable CA2255 // a module initializer is the point: the executable restarts before Main runs
    [ModuleInitializer]
    internal static void OnLoad()
    {
        // Only as the program itself: a test host that loads this assembly must never be replaced.
        if (Assembly.GetEntryAssembly() != typeof(AllocatorRelaunch).Assembly) return;
        string? failure = Relaunch();
        if (failure is not null) AppContext.SetData("GptSharp.AllocatorRelaunch", failure); // for --verbose
    }
#pragma warning restore CA2255

    /// <summary>
    /// Precedence: GPTSHARP_ALLOCATOR=stock leaves everything alone; an allocator already in LD_PRELOAD is kept;
    /// tcmalloc when installed (unless GPTSHARP_ALLOCATOR=glibc); else glibc with our tunables, unless the user's
    /// GLIBC_TUNABLES already sets glibc.malloc.* ones. Returns why it did not restart, or null when nothing was to do.
    /// </summary>
    static string? Relaunch()
    {
        if (!OperatingSystem.IsLinux() || Environment.GetEnvironmentVariable(Marker) is not null) return null;
        if (NeedsNoAllocator()) return null;
        string mode = Environment.GetEnvironmentVariable("GPTSHARP_ALLOCATOR") ?? "";
        if (mode == "stock") return null;
        string preload = Environment.GetEnvironmentVariable("LD_PRELOAD") ?? "";
        if (preload.Contains("malloc", StringComparison.Ordinal)) return null;

        var set = new List<(string Name, string Value)>();
        if (mode != "glibc" && Tcmalloc.FirstOrDefault(File.Exists) is { } lib)
            set.AddRange([("LD_PRELOAD", preload.Length == 0 ? lib : $"{lib}:{preload}"), (Marker, "tcmalloc")]);
        else
        {
            string tunables = Environment.GetEnvironmentVariable("GLIBC_TUNABLES") ?? "";
            if (tunables.Contains("glibc.malloc.", StringComparison.Ordinal)) return null;
            set.AddRange([("GLIBC_TUNABLES", tunables.Length == 0 ? GlibcTunables : $"{tunables}:{GlibcTunables}"), (Marker, "glibc")]);
        }

        byte[][] argv, envp;
        try
        {
            argv = Split(File.ReadAllBytes("/proc/self/cmdline"));
            // The environment the process started with, byte for byte, with ours replacing any of the same name.
            envp = [.. Split(File.ReadAllBytes("/proc/self/environ")).Where(e => !set.Any(s => StartsWith(e, s.Name + "="))),
                    .. set.Select(s => Encoding.UTF8.GetBytes($"{s.Name}={s.Value}"))];
        }
        catch (IOException e) { return $"not relaunched: {e.Message}"; }
        catch (UnauthorizedAccessException e) { return $"not relaunched: {e.Message}"; }
        if (argv.Length == 0) return "not relaunched: empty /proc/self/cmdline";

        Execve("/proc/self/exe"u8, argv, envp); // returns only on failure
        return $"not relaunched: execve failed (errno {Marshal.GetLastPInvokeError()})";
    }

    /// <summary>
    /// Whether the command line starts with one the executable declares allocator-free (quick commands that never load
    /// libtorch, where a restart would be most of their time): <c>&lt;AssemblyMetadata Include="GptSharp.NoAllocatorRelaunch"
    /// Value="tune ask;tune tell" /&gt;</c> in its project.
    /// </summary>
    static bool NeedsNoAllocator()
    {
        var prefixes = typeof(AllocatorRelaunch).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Where(a => a.Key == "GptSharp.NoAllocatorRelaunch").SelectMany(a => (a.Value ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries));
        string[] args = Environment.GetCommandLineArgs()[1..];
        return prefixes.Any(p => p.Split(' ') is var words && args.Length >= words.Length && words.SequenceEqual(args[..words.Length]));
    }

    /// <summary>The entries of a /proc list (each ends with a NUL), as raw bytes: arguments need not be UTF-8.</summary>
    static byte[][] Split(byte[] nulTerminated)
    {
        var entries = new List<byte[]>();
        for (int start = 0, i = 0; i < nulTerminated.Length; i++)
            if (nulTerminated[i] == 0) { entries.Add(nulTerminated[start..i]); start = i + 1; }
        return [.. entries];
    }

    static bool StartsWith(byte[] entry, string prefix) => entry.AsSpan().StartsWith(Encoding.UTF8.GetBytes(prefix));

    static unsafe void Execve(ReadOnlySpan<byte> path, byte[][] argv, byte[][] envp)
    {
        var handles = new List<GCHandle>();
        nint[] Pointers(byte[][] strings)
        {
            var p = new nint[strings.Length + 1]; // NULL-terminated
            for (int i = 0; i < strings.Length; i++)
            {
                var h = GCHandle.Alloc(NulTerminated(strings[i]), GCHandleType.Pinned);
                handles.Add(h);
                p[i] = h.AddrOfPinnedObject();
            }
            return p;
        }
        nint[] a = Pointers(argv), e = Pointers(envp);
        byte[] file = NulTerminated(path.ToArray());
        try
        {
            fixed (byte* f = file) fixed (nint* ap = a) fixed (nint* ep = e) ExecveNative(f, ap, ep);
        }
        finally { foreach (var h in handles) h.Free(); }
    }

    static byte[] NulTerminated(byte[] s) => [.. s, 0];

    [LibraryImport("libc.so.6", EntryPoint = "execve", SetLastError = true)]
    private static unsafe partial int ExecveNative(byte* path, nint* argv, nint* envp);
}
