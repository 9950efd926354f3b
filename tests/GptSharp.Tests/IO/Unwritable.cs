namespace GptSharp.Tests.IO;

/// <summary>Places this process cannot write to, whoever runs the tests.</summary>
static class Unwritable
{
    /// <summary>
    /// A directory in which creating a file fails: a mode-555 folder for an ordinary user; for root, which ignores
    /// permission bits, /proc (the kernel refuses new entries there).
    /// </summary>
    public static string Directory(Fixture.TempDir tmp)
    {
        if (OperatingSystem.IsWindows() || Environment.UserName == "root") return "/proc";
        string dir = tmp["read-only"];
        System.IO.Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        return dir;
    }

    /// <summary>A path below a regular file: no one can create it.</summary>
    public static string UnderAFile(Fixture.TempDir tmp)
    {
        File.WriteAllText(tmp["a-file"], "not a directory");
        return Path.Combine(tmp["a-file"], "out");
    }
}
