namespace GptSharp.Interop;

/// <summary>Writes that never leave a half-written file: write a temporary sibling, flush, then rename over the target.</summary>
public static class AtomicFile
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
                string old = $"{full}.old-{Guid.NewGuid():N}";
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
}
