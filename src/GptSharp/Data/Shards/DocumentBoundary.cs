namespace GptSharp.Data.Shards;

/// <summary>Where one document of the input text ends and the next begins. Every input file also ends a document.</summary>
public enum DocumentBoundary
{
    /// <summary>A line holding only <c>&lt;|endoftext|&gt;</c> (GPT-2's corpus convention). Without markers, each file is one document.</summary>
    Marker,
    /// <summary>Each input file is one document.</summary>
    File,
    /// <summary>One or more blank lines (paragraphs).</summary>
    BlankLine,
    /// <summary>Each non-blank line is one document.</summary>
    Line,
}

public static class DocumentBoundaries
{
    static readonly Dictionary<string, DocumentBoundary> ByName = new()
    {
        ["marker"] = DocumentBoundary.Marker, ["file"] = DocumentBoundary.File,
        ["blank-line"] = DocumentBoundary.BlankLine, ["line"] = DocumentBoundary.Line,
    };

    public static IReadOnlyCollection<string> Names => ByName.Keys;

    public static string Name(this DocumentBoundary boundary) => ByName.First(kv => kv.Value == boundary).Key;

    public static DocumentBoundary Parse(string name) =>
        ByName.TryGetValue(name, out var b) ? b
            : throw new GptSharpException($"unknown document boundary '{name}' (expected one of: {string.Join(", ", ByName.Keys)})");
}
