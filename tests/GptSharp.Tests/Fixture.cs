namespace GptSharp.Tests;

static class Fixture
{
    public static string Path(params string[] parts) => System.IO.Path.Combine([AppContext.BaseDirectory, "Fixtures", .. parts]);

    /// <summary>A fresh empty directory under the system temp folder, deleted when disposed.</summary>
    public sealed class TempDir : IDisposable
    {
        public string Root { get; } = Directory.CreateTempSubdirectory("gptsharp-test-").FullName;
        public string this[string name] => System.IO.Path.Combine(Root, name);
        public void Dispose() { try { Directory.Delete(Root, true); } catch (IOException) { } }
    }
}
