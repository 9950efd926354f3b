using System.Diagnostics;
using System.Text.RegularExpressions;

namespace GptSharp.IO;

/// <summary>
/// Writes that never leave a half-written file: write a temporary sibling, flush, then rename over the target.
/// Temporaries are named <c>{name}.tmp-{pid}-{guid}</c> (and <c>{name}.old-{pid}-{guid}</c> for a replaced directory),
/// so a later run can tell a dead process's leftovers from a live one's work.
/// </summary>
public static partial class AtomicFile
{
    public static void Write(string path, Action<FileStream> write)
    {
        string full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        string tmp = $"{full}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        try
        {
            using (var f = new FileStream(tmp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                write(f);
                f.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            File.Delete(tmp);
            throw;
        }
    }

    public static void WriteAllText(string path, string text) =>
        Write(path, f => { using var w = new StreamWriter(f, new System.Text.UTF8Encoding(false), leaveOpen: true); w.Write(text); });

    /// <summary>
    /// Builds a directory at <paramref name="dir"/> by filling a temporary sibling and renaming it into place;
    /// an existing directory is replaced only once the new one is complete.
    /// </summary>
    public static void WriteDirectory(string dir, Action<string> fill)
    {
        string full = Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar);
        string tmp = $"{full}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        Directory.CreateDirectory(tmp);
        try
        {
            fill(tmp);
            if (Directory.Exists(full))
            {
                string old = $"{full}.old-{Environment.ProcessId}-{Guid.NewGuid():N}";
                Directory.Move(full, old);
                Directory.Move(tmp, full);
                Directory.Delete(old, recursive: true);
            }
            else Directory.Move(tmp, full);
        }
        catch
        {
            if (Directory.Exists(tmp)) Directory.Delete(tmp, recursive: true);
            throw;
        }
    }

    [GeneratedRegex(@"\.(tmp|old)-(\d+)-[0-9a-f]{32}$")]
    private static partial Regex TemporarySuffix();

    /// <summary>
    /// Deletes the temporaries that writes of <paramref name="path"/> left behind when their process was killed
    /// (files or directories). Those of live processes, this one included, are another write in progress and stay.
    /// </summary>
    public static void DeleteStaleTemporaries(string path)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        string? parent = Path.GetDirectoryName(full);
        if (parent is null || !Directory.Exists(parent)) return;
        string prefix = Path.GetFileName(full);
        foreach (var entry in Directory.EnumerateFileSystemEntries(parent, prefix + ".*"))
        {
            string name = Path.GetFileName(entry);
            var m = TemporarySuffix().Match(name);
            if (!m.Success || m.Index != prefix.Length || !int.TryParse(m.Groups[2].Value, out int pid) || IsAlive(pid)) continue;
            try
            {
                if (Directory.Exists(entry)) Directory.Delete(entry, recursive: true);
                else File.Delete(entry);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { } // still there next time: harmless
        }
    }

    static bool IsAlive(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        try
        {
            using var p = Process.GetProcessById(pid);
            return !p.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException) { return false; }
    }
}
