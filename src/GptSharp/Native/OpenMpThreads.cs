using System.Runtime.InteropServices;

namespace GptSharp.Native;

/// <summary>
/// The calling thread's OpenMP team size, which libtorch's CPU operators (OpenMP build) take from
/// <c>omp_get_max_threads()</c>, a per-thread setting. torch.set_num_threads would also change MKL's and libtorch's
/// process-wide counts, and with them every other thread's arithmetic (and so the bits of concurrent training runs).
/// Used around the small libtorch work done beside another runtime's thread pool: libtorch's OpenMP threads, once
/// woken, spin for a while and take the cores that pool needs.
/// </summary>
public static unsafe class OpenMpThreads
{
    static readonly delegate* unmanaged<int, void> SetNumThreads = Find();

    /// <summary>Runs the caller's libtorch operators on its own thread until disposed; a no-op where libgomp is not loaded.</summary>
    public static Scope SingleThreaded() => Team(1);

    /// <summary>Runs the caller's libtorch operators on <paramref name="threads"/> threads until disposed (inside a
    /// <see cref="SingleThreaded"/> scope: libtorch work that is the whole step, such as a prompt); a no-op where libgomp is not loaded.</summary>
    public static Scope Team(int threads)
    {
        if (SetNumThreads == null) return default;
        int before = TorchSharp.torch.get_num_threads(); // also gives this thread libtorch's lazy per-thread setup first
        SetNumThreads(Math.Max(1, threads));
        return new Scope(before);
    }

    /// <summary>Restores the thread's team size.</summary>
    public readonly struct Scope(int before) : IDisposable
    {
        public void Dispose()
        {
            if (before > 0) SetNumThreads(before);
        }
    }

    /// <summary>omp_set_num_threads of the libgomp libtorch loaded (its file name carries a hash: found in /proc/self/maps).</summary>
    static delegate* unmanaged<int, void> Find()
    {
        try
        {
            TorchRuntime.Initialize();
            TorchSharp.torch.get_num_threads(); // libtorch, and the libgomp it needs, loaded
            string? path = File.Exists("/proc/self/maps")
                ? File.ReadLines("/proc/self/maps").Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
                      .Where(f => f.Length >= 6 && Path.GetFileName(f[5]).StartsWith("libgomp")).Select(f => f[5]).FirstOrDefault()
                : null;
            if (path is null || !NativeLibrary.TryLoad(path, out var handle)) return null;
            return NativeLibrary.TryGetExport(handle, "omp_set_num_threads", out var set) ? (delegate* unmanaged<int, void>)set : null;
        }
        catch (IOException) { return null; }
    }
}
