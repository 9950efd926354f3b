using GptSharp.Chat.Safety;

namespace GptSharp.Server.Generation;

/// <summary>The content filter the server applies (null: none), as one service.</summary>
public sealed record ServedFilter(ContentFilter? Rules)
{
    /// <summary>"default" (the built-in rules), "none", or a rules JSON file.</summary>
    public static ServedFilter From(string setting) => new(setting switch
    {
        "default" => ContentFilter.Default,
        "none" => null,
        var path => ContentFilter.Load(path),
    });
}
