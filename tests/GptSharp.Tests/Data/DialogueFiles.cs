namespace GptSharp.Tests.Data;

/// <summary>Small dialogue files written into a temp directory.</summary>
sealed class DialogueFiles : IDisposable
{
    readonly Fixture.TempDir _dir = new();

    public string Write(string name, string text) => WriteBytes(name, System.Text.Encoding.UTF8.GetBytes(text));

    public string WriteBytes(string name, byte[] bytes)
    {
        File.WriteAllBytes(_dir[name], bytes);
        return _dir[name];
    }

    public void Dispose() => _dir.Dispose();
}
