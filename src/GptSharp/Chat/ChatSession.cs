using System.Runtime.CompilerServices;
using System.Text;
using GptSharp.Data;
using GptSharp.Models;
using GptSharp.Tokenization;
using GptSharp.Chat.Safety;
using GptSharp.Checkpoints;
using GptSharp.Inference;

namespace GptSharp.Chat;

/// <summary>
/// A multi-turn conversation with a chat model. Each reply renders the system prompt, the history and the new user
/// message with the <see cref="ChatTemplate"/>, then generates until <c>&lt;|end|&gt;</c>, or any other end token
/// (<c>&lt;|endoftext|&gt;</c>, the model directory's eos_token_id); special tokens never show in a reply.
/// <para>When the conversation no longer fits the context (block_size minus <see cref="ChatSessionOptions.ReplyRoom"/>),
/// the oldest turns are left out of the prompt (the system prompt always stays); <see cref="History"/> keeps them all.</para>
/// <para>A reply that is cancelled, fails, or whose enumeration is left early is kept in the history as far as it was shown,
/// so the model sees the same conversation as the user. A user message refused by the <see cref="ContentFilter"/> gets
/// the filter's refusal without calling the model, and neither is added to the history.</para>
/// </summary>
public sealed class ChatSession
{
    /// <summary>Produces the reply's token ids for a prompt (the model in real use; a script in tests).</summary>
    internal delegate IAsyncEnumerable<int> TokenSource(IReadOnlyList<int> prompt, GenerationOptions options, CancellationToken ct);

    readonly BpeTokenizer tokenizer;
    readonly TokenSource tokens;
    readonly int contextSize;
    readonly List<ChatTurn> history = [];
    readonly IReadOnlySet<int> endIds; // the ids that end a reply

    /// <param name="model">A chat model whose vocabulary includes the tokenizer's role tokens.</param>
    /// <param name="tokenizer">The model's tokenizer, with &lt;|system|&gt;, &lt;|user|&gt;, &lt;|assistant|&gt; and &lt;|end|&gt;.</param>
    /// <param name="filter">Checks user messages and replies; null: no filtering.</param>
    /// <param name="endTokenIds">More ids that end a reply (a model directory's eos_token_id); &lt;|end|&gt; and &lt;|endoftext|&gt; always do.</param>
    public ChatSession(Gpt model, BpeTokenizer tokenizer, ChatSessionOptions? options = null, ContentFilter? filter = null,
        IEnumerable<int>? endTokenIds = null)
        : this(tokenizer, model.Config.BlockSize, GeneratorSource(model, tokenizer, endTokenIds, out var ends), options, filter, ends)
    {
    }

    /// <summary>A chat with a loaded model directory, ending replies at every end token it names.</summary>
    public ChatSession(ModelDirectory loaded, ChatSessionOptions? options = null, ContentFilter? filter = null)
        : this(loaded.Model, loaded.Tokenizer, options, filter, loaded.EndTokenIds)
    {
    }

    internal ChatSession(BpeTokenizer tokenizer, int contextSize, TokenSource tokens, ChatSessionOptions? options = null, ContentFilter? filter = null,
        IReadOnlySet<int>? endIds = null)
    {
        this.tokenizer = tokenizer;
        Template = new ChatTemplate(tokenizer);
        this.tokens = tokens;
        this.contextSize = contextSize;
        Options = options ?? new ChatSessionOptions();
        Filter = filter;
        this.endIds = endIds ?? new HashSet<int> { Template.EndId, Template.EndOfTextId };
    }

    static TokenSource GeneratorSource(Gpt model, BpeTokenizer tokenizer, IEnumerable<int>? endTokenIds, out IReadOnlySet<int> endIds)
    {
        var template = new ChatTemplate(tokenizer);
        if (template.EndId >= model.Config.VocabSize)
            throw new GptSharpException($"the model's vocab_size ({model.Config.VocabSize}) has no room for the chat role tokens " +
                                        $"(<|end|> is {template.EndId}); chat needs a model fine-tuned with them");
        // <|end|> closes an assistant turn: it is where a reply stops (and at <|endoftext|> and the model's other end tokens).
        var generator = new TextGenerator(model, tokenizer, template.EndId, endTokenIds);
        endIds = generator.EndIds;
        return (prompt, options, ct) => generator.StreamAsync(prompt, options with { StopAtEndOfText = true }, ct);
    }

    public ChatTemplate Template { get; }
    public ChatSessionOptions Options { get; set; }
    public ContentFilter? Filter { get; set; }

    /// <summary>The user and assistant turns so far (user messages with the prefix they were sent with).</summary>
    public IReadOnlyList<ChatTurn> History => history;

    /// <summary>Raised for every message or phrase the content filter blocks.</summary>
    public event Action<ContentFilterBlock>? Blocked;

    /// <summary>Forgets the conversation (keeps the options and system prompt).</summary>
    public void Reset() => history.Clear();

    /// <summary>The positions kept free for the reply.</summary>
    public int ReplyRoom => Options.ReplyRoom ?? Math.Min(Options.Generation.MaxNewTokens, contextSize / 2);

    /// <summary>The whole reply, once complete.</summary>
    public async Task<string> ReplyAsync(string userMessage, CancellationToken ct = default)
    {
        var reply = new StringBuilder();
        await foreach (var piece in ReplyStreamingAsync(userMessage, ct)) reply.Append(piece);
        return reply.ToString();
    }

    /// <summary>
    /// The reply as text pieces, each yielded as soon as it is decoded (never half a UTF-8 character), and with a
    /// content filter as soon as it is known to be clean. The prompt is built (and checked) before the first piece.
    /// </summary>
    public IAsyncEnumerable<string> ReplyStreamingAsync(string userMessage, CancellationToken ct = default)
    {
        if (Filter?.CheckInput(userMessage) is { IsBlocked: true } verdict)
        {
            Blocked?.Invoke(new ContentFilterBlock(verdict.Category!, verdict.Text!, ContentFilterSide.Input));
            return Refuse(Filter.Refusal);
        }
        var user = new ChatTurn(TurnRole.User, (Options.UserPrefix ?? "") + userMessage);
        var prompt = BuildPrompt(user);
        return Stream(user, prompt, Options.Generation.Validate(), Filter?.CreateOutputStream(), ct);
    }

    static async IAsyncEnumerable<string> Refuse(string refusal)
    {
        await Task.CompletedTask;
        yield return refusal;
    }

    async IAsyncEnumerable<string> Stream(ChatTurn user, int[] prompt, GenerationOptions options, ContentFilterStream? filter,
        [EnumeratorCancellation] CancellationToken ct)
    {
        if (filter is not null) filter.Blocked += b => Blocked?.Invoke(b);
        var decoder = tokenizer.CreateStreamDecoder(skipSpecialTokens: true);
        var shown = new StringBuilder();
        string Shown(string text) { shown.Append(text); return text; }
        try
        {
            await foreach (int id in tokens(prompt, options, ct).WithCancellation(ct))
            {
                if (endIds.Contains(id)) break;
                string piece = decoder.Append(id);
                if (filter is not null) piece = filter.Push(piece);
                if (piece.Length > 0) yield return Shown(piece);
                if (filter is { Stopped: true }) break;
            }
            string rest = decoder.Flush();
            if (filter is not null) rest = filter.Push(rest) + filter.Finish();
            if (rest.Length > 0) yield return Shown(rest);
        }
        finally
        {
            history.Add(user);
            history.Add(new ChatTurn(TurnRole.Assistant, shown.ToString()));
        }
    }

    /// <summary>
    /// System prompt + as many of the latest turns as fit + the new user message + &lt;|assistant|&gt;.
    /// Whole exchanges (a user turn and its reply) are dropped, oldest first.
    /// </summary>
    internal int[] BuildPrompt(ChatTurn user)
    {
        int budget = contextSize - ReplyRoom;
        if (budget <= 0)
            throw new GptSharpException($"the reply room ({ReplyRoom} tokens) leaves nothing of the model's context ({contextSize}) for the prompt");
        var system = string.IsNullOrEmpty(Options.SystemPrompt) ? null : new ChatTurn(TurnRole.System, Options.SystemPrompt);
        int Cost(ChatTurn m) => tokenizer.Encode(m.Content).Length + 2; // role token + text + <|end|>
        int fixedCost = (system is null ? 0 : Cost(system)) + Cost(user) + 1; // + <|assistant|>
        if (fixedCost > budget)
            throw new GptSharpException($"the message needs {fixedCost} tokens{(system is null ? "" : " with the system prompt")} but only {budget} fit " +
                                        $"(the model's context of {contextSize} minus {ReplyRoom} kept for the reply); shorten it");
        // Walk back from the newest turn, keeping whole exchanges while they fit.
        int used = fixedCost, keepFrom = history.Count;
        for (int i = history.Count - 1; i >= 0; i--)
        {
            used += Cost(history[i]);
            if (used > budget) break;
            if (history[i].Role == TurnRole.User) keepFrom = i;
        }
        var messages = new List<ChatTurn>();
        if (system is not null) messages.Add(system);
        messages.AddRange(history.Skip(keepFrom));
        messages.Add(user);
        return Template.RenderPrompt(messages);
    }
}
