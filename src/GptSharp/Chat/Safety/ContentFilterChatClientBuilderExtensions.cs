using Microsoft.Extensions.AI;

namespace GptSharp.Chat.Safety;

/// <summary>Adds the content filter to a chat client pipeline.</summary>
public static class ContentFilterChatClientBuilderExtensions
{
    /// <summary>Filters user messages and replies with <paramref name="rules"/> (<see cref="ContentFilterChatClient"/>).</summary>
    public static ChatClientBuilder UseContentFilter(this ChatClientBuilder builder, ContentFilter rules)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(rules);
        return builder.Use(inner => new ContentFilterChatClient(inner, rules));
    }
}
