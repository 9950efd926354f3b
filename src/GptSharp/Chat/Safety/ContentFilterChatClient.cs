using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using GptSharp.Inference;

namespace GptSharp.Chat.Safety;

/// <summary>
/// Chat middleware that applies a <see cref="ContentFilter"/>: a last user message that the rules block gets the rules'
/// refusal without calling the model; a reply is filtered as it streams (<see cref="ContentFilterStream"/>: a banned
/// phrase split over several pieces is still caught). "stop" ends the reply just before the phrase, with finish reason
/// <see cref="ChatFinishReason.ContentFilter"/>, and stops generation; "mask" shows <c>***</c> and goes on. Every block
/// is reported as a <see cref="ContentFilterBlockContent"/> in the stream. Add it with
/// <see cref="ContentFilterChatClientBuilderExtensions.UseContentFilter"/>.
/// </summary>
public sealed class ContentFilterChatClient(IChatClient innerClient, ContentFilter rules) : DelegatingChatClient(innerClient)
{
    public ContentFilter Rules => rules;

    public override Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken);

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var list = messages as IReadOnlyList<ChatMessage> ?? [.. messages];
        if (list.Count > 0 && list[^1].Role == ChatRole.User && rules.CheckInput(list[^1].Text) is { IsBlocked: true } verdict)
        {
            yield return Refusal(new ContentFilterBlock(verdict.Category!, verdict.Text!, ContentFilterSide.Input));
            yield break;
        }

        var filter = rules.CreateOutputStream();
        int reported = 0;
        ChatResponseUpdate? last = null;
        await foreach (var update in base.GetStreamingResponseAsync(list, options, cancellationToken).ConfigureAwait(false))
        {
            last = update;
            string text = filter.Push(update.Text);
            // The last update (it says why the reply ended) also releases what was held back.
            if (update.FinishReason is not null) text += filter.Finish();
            var filtered = Filtered(update, text, filter, ref reported);
            if (filter.Stopped)
            {
                // Leaving the loop stops generation.
                filtered.FinishReason = ChatFinishReason.ContentFilter;
                yield return filtered;
                yield break;
            }
            yield return filtered;
            if (update.FinishReason is not null) yield break;
        }
        // A stream that ended without saying why: release the rest.
        string rest = filter.Finish();
        if (rest.Length > 0 || filter.Blocks.Count > reported)
        {
            var end = Filtered(new ChatResponseUpdate(ChatRole.Assistant, (string?)null) { ResponseId = last?.ResponseId, MessageId = last?.MessageId, ModelId = last?.ModelId },
                rest, filter, ref reported);
            if (filter.Stopped) end.FinishReason = ChatFinishReason.ContentFilter;
            yield return end;
        }
    }

    /// <summary>A copy of <paramref name="update"/> with <paramref name="text"/> for its text and the blocks found since the last copy.</summary>
    static ChatResponseUpdate Filtered(ChatResponseUpdate update, string text, ContentFilterStream filter, ref int reported)
    {
        var copy = update.Clone();
        var contents = new List<AIContent>();
        if (text.Length > 0) contents.Add(new TextContent(text));
        contents.AddRange(update.Contents.Where(c => c is not TextContent));
        for (; reported < filter.Blocks.Count; reported++) contents.Add(new ContentFilterBlockContent(filter.Blocks[reported]));
        copy.Contents = contents;
        return copy;
    }

    ChatResponseUpdate Refusal(ContentFilterBlock block)
    {
        string id = Guid.NewGuid().ToString("N");
        return new ChatResponseUpdate(ChatRole.Assistant, [new ContentFilterBlockContent(block), new TextContent(rules.Refusal)])
        {
            ResponseId = id, MessageId = id, CreatedAt = DateTimeOffset.UtcNow, FinishReason = ChatFinishReason.ContentFilter,
            ModelId = this.GetService<ChatClientMetadata>()?.DefaultModelId,
        };
    }
}
