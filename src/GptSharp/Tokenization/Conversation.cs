namespace GptSharp.Tokenization;

/// <summary>
/// A conversation: an optional system message, then user and assistant turns alternating, ending with an assistant
/// turn (the readers enforce this). <see cref="Source"/> is "FILE:LINE" where it was read, for messages about it.
/// </summary>
public sealed record Conversation(IReadOnlyList<ChatTurn> Messages, string Source = "")
{
    /// <summary>The leading system message, if any.</summary>
    public ChatTurn? System => Messages.Count > 0 && Messages[0].Role == TurnRole.System ? Messages[0] : null;
}
