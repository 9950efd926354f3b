namespace GptSharp.Tests.Data;

static class TempDirText
{
    /// <summary>Writes a UTF-8 text file into the temp directory and returns its path.</summary>
    public static string WriteText(this Fixture.TempDir dir, string name, string text)
    {
        File.WriteAllText(dir[name], text);
        return dir[name];
    }
}
