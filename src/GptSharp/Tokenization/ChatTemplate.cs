
namespace GptSharp.Tokenization;

/// <summary>
/// Turns a conversation into token ids and a per-token loss mask. The exact layout, with no extra spaces or newlines:
/// <code>
/// &lt;|system|&gt; system text &lt;|end|&gt;        (only if there is a system message)
/// &lt;|user|&gt; user text &lt;|end|&gt;
/// &lt;|assistant|&gt; reply text &lt;|end|&gt;
/// … more user/assistant turns …
/// &lt;|endoftext|&gt;
/// </code>
/// Each text is encoded on its own with <see cref="ITokenizer.Encode"/>, so a message that contains "&lt;|assistant|&gt;"
/// gets ordinary text tokens, never a role token: users cannot forge turns.
/// <para>The loss covers the assistant text tokens and the <c>&lt;|end|&gt;</c> closing each assistant turn (the model
/// learns to stop there, which is where generation stops). It does not cover role tokens, prompts, or the final
/// <c>&lt;|endoftext|&gt;</c>: what follows an assistant turn (another user turn or the end) is not the model's to say.
/// With <c>trainOnPrompt</c> every token counts.</para>
/// <para>For generation, <see cref="RenderPrompt"/> renders the conversation so far and ends with <c>&lt;|assistant|&gt;</c>;
/// the model writes the reply and then <c>&lt;|end|&gt;</c>.</para>
/// </summary>
public sealed class ChatTemplate
{
    /// <summary>
    /// The same layout as a Hugging Face <c>chat_template</c> (Jinja), for tokenizer_config.json. One difference: a tokenizer
    /// applying it to the rendered string would turn special-token text inside messages into special tokens.
    /// </summary>
    public const string JinjaTemplate =
        "{% for message in messages %}" +
        "{{ '<|' + message['role'] + '|>' + message['content'] + '<|end|>' }}" +
        "{% endfor %}" +
        "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% else %}{{ '<|endoftext|>' }}{% endif %}";

    readonly ITokenizer _tokenizer;

    public int SystemId { get; }
    public int UserId { get; }
    public int AssistantId { get; }
    public int EndId { get; }
    public int EndOfTextId { get; }

    /// <summary>Uses the tokenizer's role tokens; fails with a clear message if it has none.</summary>
    public ChatTemplate(BpeTokenizer tokenizer)
        : this(tokenizer, Require(tokenizer, SpecialTokens.System), Require(tokenizer, SpecialTokens.User),
            Require(tokenizer, SpecialTokens.Assistant), Require(tokenizer, SpecialTokens.End))
    {
    }

    /// <summary>Any tokenizer, with the role token ids given.</summary>
    public ChatTemplate(ITokenizer tokenizer, int systemId, int userId, int assistantId, int endId)
    {
        _tokenizer = tokenizer;
        SystemId = systemId;
        UserId = userId;
        AssistantId = assistantId;
        EndId = endId;
        EndOfTextId = tokenizer.EndOfTextId;
    }

    static int Require(BpeTokenizer tokenizer, string token) =>
        tokenizer.TokenToId(token) is int id && tokenizer.IsSpecial(id) ? id
        : throw new GptSharpException($"the tokenizer has no {token} special token; chat fine-tuning needs the role tokens " +
            $"{string.Join(", ", SpecialTokens.ChatRoles)} (the built-in gpt2 tokenizer has them, or add them to tokenizer_config.json)");

    public int RoleId(TurnRole role) => role switch
    {
        TurnRole.System => SystemId,
        TurnRole.User => UserId,
        TurnRole.Assistant => AssistantId,
        _ => throw new ArgumentOutOfRangeException(nameof(role)),
    };

    /// <summary>The whole conversation, closed by &lt;|endoftext|&gt;, with its loss mask.</summary>
    public SftExample Render(Conversation conversation, bool trainOnPrompt = false)
    {
        var ids = new List<int>();
        var mask = new List<bool>();
        foreach (var message in conversation.Messages) AppendMessage(RenderMessage(message, trainOnPrompt), ids, mask);
        ids.Add(EndOfTextId);
        mask.Add(trainOnPrompt);
        return new SftExample([.. ids], [.. mask]);
    }

    /// <summary>The conversation so far, then &lt;|assistant|&gt;: the prompt for generating the next reply.</summary>
    public int[] RenderPrompt(IEnumerable<ChatTurn> messagesSoFar)
    {
        var ids = new List<int>();
        foreach (var message in messagesSoFar)
        {
            ids.Add(RoleId(message.Role));
            ids.AddRange(_tokenizer.Encode(message.Content));
            ids.Add(EndId);
        }
        ids.Add(AssistantId);
        return [.. ids];
    }

    /// <summary>One message: role token, text, &lt;|end|&gt;, with its mask (see the class comment).</summary>
    public SftExample RenderMessage(ChatTurn message, bool trainOnPrompt = false)
    {
        int[] text = _tokenizer.Encode(message.Content);
        var ids = new int[text.Length + 2];
        ids[0] = RoleId(message.Role);
        text.CopyTo(ids, 1);
        ids[^1] = EndId;
        var mask = new bool[ids.Length];
        bool counts = trainOnPrompt || message.Role == TurnRole.Assistant;
        mask.AsSpan(1).Fill(counts);
        mask[0] = trainOnPrompt;
        return new SftExample(ids, mask);
    }

    internal static void AppendMessage(SftExample piece, List<int> ids, List<bool> mask)
    {
        ids.AddRange(piece.Ids);
        mask.AddRange(piece.LossMask);
    }
}
