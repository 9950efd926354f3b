using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace GptSharp.Native;

/// <summary>
/// libtorch's bundled MKL asks <c>mkl_serv_intel_cpu_true()</c> whether to use its fast kernels and, on AMD,
/// falls back to slow generic ones (fp32 GEMM ~185 vs ~420 GFLOP/s on our EPYCs). We overwrite the
/// function's first bytes in the loaded image with <c>mov eax,1; ret</c> before MKL's first call; MKL still
/// checks the instruction set itself, so AVX-512 kernels only run where the CPU has AVX-512.
/// </summary>
internal static class MklCpuDispatch
{
    static ReadOnlySpan<byte> ReturnOne => [0xB8, 0x01, 0x00, 0x00, 0x00, 0xC3];

    public static bool IsAmd()
    {
        if (!X86Base.IsSupported) return false;
        var (_, ebx, ecx, edx) = X86Base.CpuId(0, 0);
        Span<int> v = [ebx, edx, ecx];
        return MemoryMarshal.AsBytes(v).SequenceEqual("AuthenticAMD"u8);
    }

    /// <returns>A short description of what happened, for diagnostics.</returns>
    public static unsafe string Apply(nint libtorchCpu)
    {
        if (!IsAmd()) return "not needed (not an AMD CPU)";
        if (!NativeLibrary.TryGetExport(libtorchCpu, "mkl_serv_intel_cpu_true", out nint fn)) return "not applied (no MKL in libtorch)";
        var code = new Span<byte>((void*)fn, ReturnOne.Length);
        if (code.SequenceEqual(ReturnOne)) return "applied";
        if (code[0] != 0x8B) return "not applied (unrecognised MKL build)"; // expect `mov eax,[rip+cached]`

        long page = Environment.SystemPageSize;
        nint start = (nint)(fn & ~(page - 1));
        nuint len = (nuint)(fn + ReturnOne.Length - start);
        if (Libc.MProtect(start, len, Libc.PROT_READ | Libc.PROT_WRITE | Libc.PROT_EXEC) != 0)
            return $"not applied (mprotect failed: errno {Marshal.GetLastPInvokeError()})";
        ReturnOne.CopyTo(code);
        Libc.MProtect(start, len, Libc.PROT_READ | Libc.PROT_EXEC);
        return "applied";
    }
}
