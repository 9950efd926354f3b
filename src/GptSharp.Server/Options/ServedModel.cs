namespace GptSharp.Server.Options;

/// <summary>One model directory to serve, and the id clients name it by (the request's <c>model</c>).</summary>
/// <param name="Path">The model directory (config.json, weights, tokenizer files).</param>
/// <param name="Alias">The id; null for the directory's name.</param>
public sealed record ServedModel(string Path, string? Alias = null)
{
    public string Id => Alias ?? System.IO.Path.GetFileName(System.IO.Path.GetFullPath(Path).TrimEnd(System.IO.Path.DirectorySeparatorChar, System.IO.Path.AltDirectorySeparatorChar));
}
