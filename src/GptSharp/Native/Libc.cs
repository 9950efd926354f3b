using System.Runtime.InteropServices;

namespace GptSharp.Native;

/// <summary>The few libc entry points the native fixes need (glibc ≥ 2.34 exports dl* from libc itself).</summary>
internal static partial class Libc
{
    public const int RTLD_LAZY = 0x1;
    public const int RTLD_NOLOAD = 0x4;
    public const int PROT_READ = 0x1, PROT_WRITE = 0x2, PROT_EXEC = 0x4;
    public const int M_TRIM_THRESHOLD = -1, M_TOP_PAD = -2, M_MMAP_MAX = -4;
    public const int O_RDONLY = 0x0, O_RDWR = 0x2, O_CREAT = 0x40, O_CLOEXEC = 0x80000; // Linux (x86-64 and arm64)
    public const int LOCK_EX = 2, LOCK_NB = 4;
    public const int EINTR = 4, EWOULDBLOCK = 11;
    public const int SIGINT = 2;

    [LibraryImport("libc.so.6", EntryPoint = "dlopen", StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint DlOpen(string? file, int mode);

    [LibraryImport("libc.so.6", EntryPoint = "dlvsym", StringMarshalling = StringMarshalling.Utf8)]
    public static partial nint DlVSym(nint handle, string symbol, string version);

    [LibraryImport("libc.so.6", EntryPoint = "mprotect", SetLastError = true)]
    public static partial int MProtect(nint addr, nuint len, int prot);

    [LibraryImport("libc.so.6", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int Open(string path, int flags, int mode);

    [LibraryImport("libc.so.6", EntryPoint = "flock", SetLastError = true)]
    public static partial int FLock(int fd, int operation);

    [LibraryImport("libc.so.6", EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    [LibraryImport("libc.so.6", EntryPoint = "mallopt")]
    public static partial int MallOpt(int param, int value);

    [LibraryImport("libc.so.6", EntryPoint = "malloc_trim")]
    public static partial int MallocTrim(nuint pad);
}
