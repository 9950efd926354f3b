using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace GptSharp.Bench;

/// <summary>
/// The memory bandwidth behind the fp32 decode floor, measured in the benchmark's own process between decoding runs (as
/// <c>bench/decode/bandwidth.c</c> does alone): the threads sum their shares of one buffer as large as the weights a
/// token streams, on 2 MiB pages (the faster kind here, so the floor is the higher one), best of a few passes. Our
/// machines swing between two bandwidths for minutes at a time (34 and 60 GB/s), so a floor is only meaningful next to
/// the run it bounds.
/// </summary>
sealed unsafe class BandwidthProbe : IDisposable
{
    const long HugePage = 2 << 20;
    readonly float* _buffer;
    readonly long _floats;
    readonly int _threads;

    public BandwidthProbe(long bytes, int threads)
    {
        (_floats, _threads) = (bytes / sizeof(float) / 64 * 64, Math.Max(1, threads));
        nuint size = (nuint)((_floats * sizeof(float) + HugePage - 1) / HugePage * HugePage);
        _buffer = (float*)NativeMemory.AlignedAlloc(size, (nuint)HugePage);
        if (OperatingSystem.IsLinux()) _ = madvise((nint)_buffer, size, 14); // MADV_HUGEPAGE
        new Span<float>(_buffer, checked((int)_floats)).Fill(1);
    }

    public long Bytes => _floats * sizeof(float);

    /// <summary>GB/s of the fastest of <paramref name="passes"/> passes over the buffer.</summary>
    public double Measure(int passes = 5)
    {
        double best = double.MaxValue;
        var sums = new float[_threads];
        for (int p = 0; p < passes; p++)
        {
            var clock = Stopwatch.StartNew();
            Parallel.For(0, _threads, new ParallelOptions { MaxDegreeOfParallelism = _threads }, t =>
                sums[t] = Sum(_buffer + _floats * t / _threads, _floats / _threads / 64 * 64));
            best = Math.Min(best, clock.Elapsed.TotalSeconds);
        }
        if (sums.Sum() <= 0) throw new InvalidOperationException("the probe's sum was lost"); // keeps the loop live
        return Bytes / best / 1e9;
    }

    /// <summary>Four independent 256-bit accumulators, as the compiled C probe's loop: bound by memory, not by the adds.</summary>
    static float Sum(float* p, long n)
    {
        Vector256<float> a = default, b = default, c = default, d = default;
        for (long i = 0; i < n; i += 32)
        {
            a += Vector256.Load(p + i);
            b += Vector256.Load(p + i + 8);
            c += Vector256.Load(p + i + 16);
            d += Vector256.Load(p + i + 24);
        }
        return Vector256.Sum(a + b + c + d);
    }

    public void Dispose() => NativeMemory.AlignedFree(_buffer);

    [DllImport("libc.so.6")]
    static extern int madvise(nint address, nuint length, int advice);
}
