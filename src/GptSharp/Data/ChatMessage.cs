namespace GptSharp.Data;

/// <summary>Who speaks a chat turn.</summary>
public enum ChatRole { System, User, Assistant }

/// <summary>One turn of a conversation.</summary>
public sealed record ChatMessage(ChatRole Role, string Content)
{
    /// <summary>The lowercase name used in files and in the chat template ("system", "user", "assistant").</summary>
    public static string RoleName(ChatRole role) => role switch
    {
        ChatRole.System => "system",
        ChatRole.User => "user",
        ChatRole.Assistant => "assistant",
        _ => throw new ArgumentOutOfRangeException(nameof(role)),
    };

    /// <summary>The role for a lowercase name, or null if it is not one of system, user, assistant.</summary>
    public static ChatRole? ParseRole(string name) => name switch
    {
        "system" => ChatRole.System,
        "user" => ChatRole.User,
        "assistant" => ChatRole.Assistant,
        _ => null,
    };
}
