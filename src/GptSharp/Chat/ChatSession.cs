using System.Runtime.CompilerServices;
using System.Text;
using GptSharp.Chat.Safety;
using GptSharp.Inference;
using GptSharp.Tokenization;
using Microsoft.Extensions.AI;
using GptSharp.Models;

namespace GptSharp.Chat;

/// <summary>
/// A multi-turn conversation over any <see cref="IChatClient"/> (a <see cref="GptChatClient"/>, with middleware such as
/// <c>UseContentFilter</c> or not): it keeps the history, sends the system prompt, the history and each new user
/// message, and streams the reply.
/// <para>When the conversation no longer fits the model's context (its <see cref="ChatContextWindow"/>, less
/// <see cref="ReplyRoom"/>), the oldest turns are left out of the request (the system prompt always stays);
/// <see cref="History"/> keeps them all. Without a window every turn is sent.</para>
/// <para>A reply that is cancelled, fails, or whose enumeration is left early is kept in the history as far as it was
/// shown, so the model sees the same conversation as the user. A user message that a content filter refuses
/// (a <see cref="ContentFilterBlockContent"/> on the input side) gets the filter's answer, and neither is added to the history.</para>
/// </summary>
public sealed class ChatSession
{
    readonly List<ChatTurn> history = [];

    /// <param name="client">The chat model, with any middleware.</param>
    /// <param name="options">System prompt, user prefix, decoding settings and reply room.</param>
    /// <param name="window">How to measure turns for trimming; null: the client's (<c>GetService&lt;ChatContextWindow&gt;()</c>), if it has one.</param>
    public ChatSession(IChatClient client, ChatSessionOptions? options = null, ChatContextWindow? window = null)
    {
        Client = client;
        Options = options ?? new ChatSessionOptions();
        Window = window ?? client.GetService<ChatContextWindow>();
    }

    public IChatClient Client { get; }
    public ChatSessionOptions Options { get; set; }
    /// <summary>How turns are measured against the model's context; null: nothing is trimmed.</summary>
    public ChatContextWindow? Window { get; }

    /// <summary>The user and assistant turns so far (user messages with the prefix they were sent with).</summary>
    public IReadOnlyList<ChatTurn> History => history;

    /// <summary>Forgets the conversation (keeps the options and system prompt).</summary>
    public void Reset() => history.Clear();

    /// <summary>The positions kept free for the reply: <see cref="ChatSessionOptions.ReplyRoom"/>, else max_new_tokens but at most half the context.</summary>
    public int ReplyRoom => Options.ReplyRoom ?? Math.Min(Options.Generation.MaxNewTokens, (Window?.ContextSize ?? int.MaxValue) / 2);

    /// <summary>The whole reply, once complete.</summary>
    public Task<ChatResponse> ReplyAsync(string userMessage, CancellationToken ct = default) =>
        ReplyStreamingAsync(userMessage, ct).ToChatResponseAsync(ct);

    /// <summary>
    /// The reply as the client streams it (text, finish reason, usage, content filter notes). The request is built
    /// (and checked) before the first update.
    /// </summary>
    public IAsyncEnumerable<ChatResponseUpdate> ReplyStreamingAsync(string userMessage, CancellationToken ct = default)
    {
        var user = new ChatTurn(TurnRole.User, (Options.UserPrefix ?? "") + userMessage);
        var messages = BuildPrompt(user).Select(ToMessage).ToList();
        return Stream(user, messages, ToChatOptions(Options.Generation.Validate()), ct);
    }

    async IAsyncEnumerable<ChatResponseUpdate> Stream(ChatTurn user, List<ChatMessage> messages, ChatOptions options,
        [EnumeratorCancellation] CancellationToken ct)
    {
        var shown = new StringBuilder();
        bool refused = false;
        try
        {
            await foreach (var update in Client.GetStreamingResponseAsync(messages, options, ct))
            {
                refused |= update.Contents.OfType<ContentFilterBlockContent>().Any(c => c.Block.Where == ContentFilterSide.Input);
                shown.Append(update.Text);
                yield return update;
            }
        }
        finally
        {
            if (!refused)
            {
                history.Add(user);
                history.Add(new ChatTurn(TurnRole.Assistant, shown.ToString()));
            }
        }
    }

    /// <summary>
    /// The settings for any chat client (temperature 0 when greedy), and the whole <see cref="GenerationOptions"/> as the
    /// raw representation, which <see cref="GptChatClient"/> takes as is.
    /// </summary>
    static ChatOptions ToChatOptions(GenerationOptions g) => new()
    {
        MaxOutputTokens = g.MaxNewTokens,
        Temperature = g.IsGreedy ? 0 : (float)g.Temperature,
        TopK = g.TopK,
        TopP = (float)g.TopP,
        Seed = g.Seed,
        StopSequences = g.StopSequences.Count > 0 ? [.. g.StopSequences] : null,
        RawRepresentationFactory = _ => g,
    };

    static ChatMessage ToMessage(ChatTurn turn) => new(turn.Role switch
    {
        TurnRole.System => ChatRole.System,
        TurnRole.User => ChatRole.User,
        _ => ChatRole.Assistant,
    }, turn.Content);

    /// <summary>
    /// System prompt + as many of the latest turns as fit + the new user message. Whole exchanges (a user turn and its
    /// reply) are dropped, oldest first.
    /// </summary>
    internal List<ChatTurn> BuildPrompt(ChatTurn user)
    {
        var system = string.IsNullOrEmpty(Options.SystemPrompt) ? null : new ChatTurn(TurnRole.System, Options.SystemPrompt);
        int keepFrom = 0;
        if (Window is { } window)
        {
            int contextSize = window.ContextSize, budget = contextSize - ReplyRoom;
            if (budget <= 0)
                throw new GptSharpException($"the reply room ({ReplyRoom} tokens) leaves nothing of the model's context ({contextSize}) for the prompt");
            int fixedCost = (system is null ? 0 : window.Cost(system)) + window.Cost(user) + window.ReplyStartCost;
            if (fixedCost > budget)
                throw new GptSharpException($"the message needs {fixedCost} tokens{(system is null ? "" : " with the system prompt")} but only {budget} fit " +
                                            $"(the model's context of {contextSize} minus {ReplyRoom} kept for the reply); shorten it");
            // Walk back from the newest turn, keeping whole exchanges while they fit.
            int used = fixedCost;
            keepFrom = history.Count;
            for (int i = history.Count - 1; i >= 0; i--)
            {
                used += window.Cost(history[i]);
                if (used > budget) break;
                if (history[i].Role == TurnRole.User) keepFrom = i;
            }
        }
        var messages = new List<ChatTurn>();
        if (system is not null) messages.Add(system);
        messages.AddRange(history.Skip(keepFrom));
        messages.Add(user);
        return messages;
    }
}
