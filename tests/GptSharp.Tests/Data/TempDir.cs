namespace GptSharp.Tests.Data;

/// <summary>A fresh directory under the system temp folder, deleted on dispose.</summary>
sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("gptsharp-test-").FullName;

    public string this[string relative] => System.IO.Path.Combine(Path, relative);

    public string WriteText(string name, string text)
    {
        File.WriteAllText(this[name], text);
        return this[name];
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}
