using System.Runtime.InteropServices;

namespace GptSharp.Native;

/// <summary>The few libc entry points the native fixes need (glibc ≥ 2.34 exports dl* from libc itself).</summary>
internal static partial class Libc
{
    public const int RTLD_LAZY = 0x1;
    public const int RTLD_NOLOAD = 0x4;
    public const int PROT_READ = 0x1, PROT_WRITE = 0x2, PROT_EXEC = 0x4;
    public const int M_TRIM_THRESHOLD = -1, M_TOP_PAD = -2, M_MMAP_MAX = -4;

    [LibraryImport("libc.so.6", EntryPoint = "dlopen", StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint DlOpen(string? file, int mode);

    [LibraryImport("libc.so.6", EntryPoint = "dlvsym", StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint DlVSym(nint handle, string symbol, string version);

    [LibraryImport("libc.so.6", EntryPoint = "mprotect", SetLastError = true)]
    public static partial int MProtect(nint addr, nuint len, int prot);

    [LibraryImport("libc.so.6", EntryPoint = "mallopt")]
    public static partial int MallOpt(int param, int value);

    [LibraryImport("libc.so.6", EntryPoint = "malloc_trim")]
    public static partial int MallocTrim(nuint pad);
}
