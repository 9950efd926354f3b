using System.Diagnostics;
using static TorchSharp.torch;

namespace GptSharp.Bench;

/// <summary>Square matmul GFLOP/s: a quick look at the machine's ceiling and at how busy it is right now.</summary>
static class Gemm
{
    public static double GFlops(ScalarType dtype, int n = 2048, int reps = 5)
    {
        using var scope = NewDisposeScope();
        var a = randn(n, n).to(dtype);
        var b = randn(n, n).to(dtype);
        a.matmul(b).Dispose(); // warm up
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < reps; i++) a.matmul(b).Dispose();
        return 2.0 * n * n * n * reps / clock.Elapsed.TotalSeconds / 1e9;
    }
}
