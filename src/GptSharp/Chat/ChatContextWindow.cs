using GptSharp.Tokenization;

namespace GptSharp.Chat;

/// <summary>
/// How much of a model's context a conversation takes: what <see cref="ChatSession"/> needs to leave old turns out
/// of a prompt. <see cref="GptChatClient"/> offers one through <c>GetService</c> (middleware passes it on), so a
/// session trims without knowing which model it talks to.
/// </summary>
/// <param name="template">Renders each turn, so its cost is counted as the model will read it.</param>
/// <param name="contextSize">The model's context (n_positions).</param>
public sealed class ChatContextWindow(ChatTemplate template, int contextSize)
{
    /// <summary>The model's context (n_positions): prompt and reply together.</summary>
    public int ContextSize => contextSize;

    /// <summary>The tokens <paramref name="turn"/> takes in a prompt: role token, text and &lt;|end|&gt;.</summary>
    public int Cost(ChatTurn turn) => template.RenderMessage(turn).Ids.Length;

    /// <summary>The tokens a prompt takes after its turns to start the reply (&lt;|assistant|&gt;).</summary>
    public int ReplyStartCost => 1;
}
