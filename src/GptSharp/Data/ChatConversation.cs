namespace GptSharp.Data;

/// <summary>
/// A conversation: an optional system message, then user and assistant turns alternating, ending with an assistant
/// turn (the readers enforce this). <see cref="Source"/> is "FILE:LINE" where it was read, for messages about it.
/// </summary>
public sealed record Conversation(IReadOnlyList<ChatMessage> Messages, string Source = "")
{
    /// <summary>The leading system message, if any.</summary>
    public ChatMessage? System => Messages.Count > 0 && Messages[0].Role == ChatRole.System ? Messages[0] : null;
}
