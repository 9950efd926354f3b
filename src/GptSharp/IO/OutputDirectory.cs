namespace GptSharp.IO;

/// <summary>
/// The one rule for every command that writes a directory: an existing non-empty output is refused unless the user
/// asks to overwrite it, and even then a directory that is or holds an input of the command, the working directory or
/// one of its ancestors is never replaced or deleted. Everything is checked before any work, writability included,
/// and messages name the user's path, never a temporary one.
/// </summary>
public static class OutputDirectory
{
    /// <summary>
    /// Checks that <paramref name="dir"/> may be built (or replaced) whole, as <see cref="Write"/> does.
    /// <paramref name="overwriteFlag"/> is what the user says to replace it ("--overwrite"); <paramref name="inputs"/>
    /// are the paths the command reads (missing or null ones are ignored).
    /// </summary>
    public static void Check(string dir, bool overwrite, string overwriteFlag, IEnumerable<string?> inputs)
    {
        string full = Path.GetFullPath(dir);
        if (File.Exists(full)) throw new GptSharpException($"{dir}: output exists and is a file, not a directory");
        if (Directory.Exists(full))
        {
            CheckDeletable(dir, inputs);
            if (!overwrite && Directory.EnumerateFileSystemEntries(full).Any())
                throw new GptSharpException($"{dir}: output directory already exists and is not empty; pass {overwriteFlag} to replace it");
        }
        CheckWritable(Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(full)) ?? full, dir);
    }

    /// <summary>
    /// Builds <paramref name="dir"/> in a temporary sibling and renames it into place (see <see cref="AtomicFile.WriteDirectory"/>),
    /// after removing temporaries that killed runs left beside it. Call <see cref="Check"/> first.
    /// </summary>
    public static void Write(string dir, Action<string> fill)
    {
        AtomicFile.DeleteStaleTemporaries(dir);
        AtomicFile.WriteDirectory(dir, fill);
    }

    /// <summary>
    /// Refuses to delete or replace <paramref name="path"/> when it is the working directory or one of its ancestors,
    /// or is or holds one of <paramref name="inputs"/>. Symbolic links are followed, so a link cannot sneak past.
    /// </summary>
    public static void CheckDeletable(string path, IEnumerable<string?> inputs)
    {
        string target = RealPath(path);
        string cwd = RealPath(Environment.CurrentDirectory);
        if (Contains(target, cwd))
            throw new GptSharpException($"{path}: refusing to replace {(target == cwd ? "the working directory" : "a directory that holds the working directory")}; " +
                                        "choose a new directory for the output");
        foreach (var input in inputs)
            if (!string.IsNullOrEmpty(input) && Path.Exists(input) && Contains(target, RealPath(input)))
                throw new GptSharpException($"{path}: refusing to replace a directory that holds an input of this command ({input}); " +
                                            "choose another directory for the output");
    }

    /// <summary>Checks that a file can be written at <paramref name="file"/> (its directory is, or can be made, writable).</summary>
    public static void CheckFile(string file)
    {
        string full = Path.GetFullPath(file);
        if (Directory.Exists(full)) throw new GptSharpException($"{file}: output is a directory, not a file");
        CheckWritable(Path.GetDirectoryName(full) ?? full, file);
    }

    /// <summary>
    /// Checks that files can be created in <paramref name="dir"/>, or in its nearest existing ancestor when it does not
    /// exist yet, by creating and deleting a probe file: permission bits alone do not tell (root, read-only mounts).
    /// </summary>
    public static void CheckWritable(string dir, string shownAs)
    {
        string? d = Path.GetFullPath(dir);
        while (d is not null && !Directory.Exists(d))
        {
            if (File.Exists(d)) throw new GptSharpException($"{shownAs}: cannot write there: {d} is a file, not a directory");
            d = Path.GetDirectoryName(d);
        }
        if (d is null) throw new GptSharpException($"{shownAs}: cannot write there");
        string probe = Path.Combine(d, $".gptsharp-write-test-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new GptSharpException($"{shownAs}: cannot write there: {d} is read-only or not writable by this user");
        }
    }

    /// <summary>True when <paramref name="outer"/> is <paramref name="inner"/> or one of its ancestors.</summary>
    static bool Contains(string outer, string inner) =>
        inner == outer || inner.StartsWith(outer.EndsWith(Path.DirectorySeparatorChar) ? outer : outer + Path.DirectorySeparatorChar, StringComparison.Ordinal);

    /// <summary>The absolute path with every symbolic link along it resolved (the parts that exist).</summary>
    static string RealPath(string path)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        for (int hops = 0; hops < 40; hops++)
        {
            string? link = null;
            for (string? p = full; p is not null; p = Path.GetDirectoryName(p))
                if (new FileInfo(p).LinkTarget is not null) { link = p; break; }
            if (link is null) return full;
            // Replace the deepest linked prefix with its target and look again (the target may hold links too).
            string target = new FileInfo(link).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? link;
            string rest = Path.GetRelativePath(link, full);
            full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(rest == "." ? target : Path.Combine(target, rest)));
        }
        return full;
    }
}
