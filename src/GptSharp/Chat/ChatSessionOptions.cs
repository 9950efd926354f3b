using GptSharp.Inference;
namespace GptSharp.Chat;

/// <summary>Settings of a <see cref="ChatSession"/>; all can be changed between replies.</summary>
public sealed record ChatSessionOptions
{
    /// <summary>Sent first in every prompt as a &lt;|system|&gt; turn, and never trimmed away. Null or empty: none.</summary>
    public string? SystemPrompt { get; init; }

    /// <summary>Put in front of every user message, e.g. <c>写一首浪漫的诗：</c> for a model fine-tuned on such prompts.</summary>
    public string? UserPrefix { get; init; }

    /// <summary>Decoding settings for every reply: all of them for a <see cref="GptChatClient"/>, the common ones
    /// (max tokens, temperature, top-k, top-p, seed, stop sequences) for any other chat client.</summary>
    public GenerationOptions Generation { get; init; } = new();

    /// <summary>
    /// Context positions kept free for the reply when old turns are trimmed. Null: max_new_tokens, but at most half
    /// the context.
    /// </summary>
    public int? ReplyRoom { get; init; }
}
