namespace GptSharp.Tokenization;

/// <summary>Who speaks a chat turn.</summary>
public enum TurnRole { System, User, Assistant }

/// <summary>One turn of a conversation.</summary>
public sealed record ChatTurn(TurnRole Role, string Content)
{
    /// <summary>The lowercase name used in files and in the chat template ("system", "user", "assistant").</summary>
    public static string RoleName(TurnRole role) => role switch
    {
        TurnRole.System => "system",
        TurnRole.User => "user",
        TurnRole.Assistant => "assistant",
        _ => throw new ArgumentOutOfRangeException(nameof(role)),
    };

    /// <summary>The role for a lowercase name, or null if it is not one of system, user, assistant.</summary>
    public static TurnRole? ParseRole(string name) => name switch
    {
        "system" => TurnRole.System,
        "user" => TurnRole.User,
        "assistant" => TurnRole.Assistant,
        _ => null,
    };
}
