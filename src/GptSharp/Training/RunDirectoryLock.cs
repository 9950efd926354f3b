using System.Runtime.InteropServices;
using System.Text;
using GptSharp.Native;
using Microsoft.Win32.SafeHandles;

namespace GptSharp.Training;

/// <summary>
/// Keeps a second trainer out of a run's output directory: an exclusive OS lock on <c>.gptsharp.lock</c> in it, held
/// until disposed. The kernel drops the lock when its process ends however it ends (kill -9 included), so a lock file
/// left behind never blocks; only a live holder does. The file holds the holder's PID, for the error message, and is
/// never deleted (deleting it would let two processes lock two different files of the same name).
/// </summary>
public sealed class RunDirectoryLock : IDisposable
{
    public const string FileName = ".gptsharp.lock";

    readonly FileStream _file;

    RunDirectoryLock(FileStream file) => _file = file;

    /// <summary>Takes the lock at once or throws, naming the directory and the PID that holds it when known.</summary>
    public static RunDirectoryLock Acquire(string outputDir)
    {
        Directory.CreateDirectory(outputDir);
        string path = Path.Combine(outputDir, FileName);
        var file = OperatingSystem.IsLinux() ? LockWithFlock(path, outputDir) : LockWithShareMode(path, outputDir);
        try
        {
            file.SetLength(0);
            file.Write(Encoding.ASCII.GetBytes($"{Environment.ProcessId}\n"));
            file.Flush();
        }
        catch
        {
            file.Dispose();
            throw;
        }
        return new RunDirectoryLock(file);
    }

    /// <summary>flock(2) on our own descriptor: unlike .NET's FileShare emulation it leaves the file readable, so a
    /// refused trainer can say who holds it, and it also works when .NET's file locking is switched off.</summary>
    static FileStream LockWithFlock(string path, string outputDir)
    {
        int fd = Libc.Open(path, Libc.O_RDWR | Libc.O_CREAT | Libc.O_CLOEXEC, Convert.ToInt32("644", 8));
        if (fd < 0) throw new IOException($"{path}: cannot open the lock file (errno {Marshal.GetLastPInvokeError()})");
        var file = new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.ReadWrite, bufferSize: 0);
        try
        {
            while (Libc.FLock(fd, Libc.LOCK_EX | Libc.LOCK_NB) != 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Libc.EINTR) continue;
                if (errno == Libc.EWOULDBLOCK) throw InUse(outputDir, Holder(file));
                throw new IOException($"{path}: cannot lock (errno {errno})");
            }
            return file;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Elsewhere (Windows), a share-mode lock; the holder's PID cannot be read then.</summary>
    static FileStream LockWithShareMode(string path, string outputDir)
    {
        try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 0); }
        catch (IOException) when (File.Exists(path)) { throw InUse(outputDir, null); }
    }

    /// <summary>The PID the last holder wrote into <paramref name="outputDir"/>'s lock file, alive or not; null if none.
    /// Reads without locking, so it works while the lock is held (.NET's own file reads would be refused then).</summary>
    public static int? LastHolder(string outputDir)
    {
        string path = Path.Combine(outputDir, FileName);
        if (!File.Exists(path)) return null;
        if (!OperatingSystem.IsLinux()) return null;
        int fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        if (fd < 0) return null;
        using var file = new FileStream(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Read, bufferSize: 0);
        return Holder(file);
    }

    static int? Holder(FileStream file)
    {
        var buffer = new byte[32];
        file.Position = 0;
        int n = file.Read(buffer);
        return int.TryParse(Encoding.ASCII.GetString(buffer, 0, n).Trim(), out int pid) ? pid : null;
    }

    static GptSharpException InUse(string outputDir, int? pid) =>
        new($"output_dir '{outputDir}' is in use by another training run{(pid is { } p ? $" (PID {p})" : "")}; " +
            "wait for it to finish or stop it, or choose another output_dir");

    /// <summary>Releases the lock (closing the file is what releases it).</summary>
    public void Dispose() => _file.Dispose();
}
