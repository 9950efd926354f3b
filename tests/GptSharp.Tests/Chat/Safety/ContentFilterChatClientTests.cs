using System.Runtime.CompilerServices;
using GptSharp.Chat.Safety;
using Microsoft.Extensions.AI;
using GptSharp.Inference;
using GptSharp.Models;

namespace GptSharp.Tests.Chat.Safety;

/// <summary>The content filter as chat middleware: <c>builder.UseContentFilter(rules)</c>.</summary>
public class ContentFilterChatClientTests
{
    /// <summary>Streams the given pieces, then a last update with finish reason Stop and usage; counts what it was asked for.</summary>
    sealed class Pieces(params string[] pieces) : IChatClient
    {
        public int Calls { get; private set; }
        public int PiecesTaken { get; private set; }

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken);

        public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
            [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            Calls++;
            foreach (var p in pieces)
            {
                await Task.Yield();
                PiecesTaken++;
                yield return new ChatResponseUpdate(ChatRole.Assistant, p) { MessageId = "m" };
            }
            yield return new ChatResponseUpdate(ChatRole.Assistant, [new UsageContent(new UsageDetails { OutputTokenCount = pieces.Length })])
                { FinishReason = ChatFinishReason.Stop, MessageId = "m" };
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => serviceType == typeof(ChatClientMetadata) ? new ChatClientMetadata("test", null, "pieces") : null;
        public void Dispose() { }
    }

    static IChatClient Filtered(IChatClient inner, ContentFilter rules) => new ChatClientBuilder(inner).UseContentFilter(rules).Build();

    static async Task<List<ChatResponseUpdate>> Stream(IChatClient client, string message)
    {
        var list = new List<ChatResponseUpdate>();
        await foreach (var u in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, message)])) list.Add(u);
        return list;
    }

    static ContentFilterBlock[] Blocks(IEnumerable<ChatResponseUpdate> updates) =>
        [.. updates.SelectMany(u => u.Contents.OfType<ContentFilterBlockContent>()).Select(c => c.Block)];

    [Fact]
    public async Task ABlockedMessageGetsTheRefusalWithoutCallingTheModel()
    {
        var inner = new Pieces("sure");
        var updates = await Stream(Filtered(inner, ContentFilter.Default), "you idiot");
        var update = Assert.Single(updates);
        Assert.Equal(ContentFilter.Default.Refusal, update.Text);
        Assert.Equal(ChatFinishReason.ContentFilter, update.FinishReason);
        Assert.Equal([new ContentFilterBlock("insult", "idiot", ContentFilterSide.Input)], Blocks(updates));
        Assert.Equal("pieces", update.ModelId);
        Assert.Equal(0, inner.Calls);
    }

    [Fact]
    public async Task APhraseSplitOverPiecesStopsTheReplyAndTheModel()
    {
        var inner = new Pieces("Fine. I will ki", "ll you", " later, and more", " and more", " and more.");
        var updates = await Stream(Filtered(inner, ContentFilter.Default), "hello");
        Assert.Equal("Fine. I will ", string.Concat(updates.Select(u => u.Text)));
        Assert.Equal(ChatFinishReason.ContentFilter, updates[^1].FinishReason);
        Assert.All(updates[..^1], u => Assert.Null(u.FinishReason));
        Assert.Equal([new ContentFilterBlock("violence", "kill you", ContentFilterSide.Output)], Blocks(updates));
        Assert.True(inner.PiecesTaken < 5, $"the model went on for {inner.PiecesTaken} pieces");
    }

    [Fact]
    public async Task MaskingGoesOnAndKeepsTheFinishReasonAndUsage()
    {
        var inner = new Pieces("Fine. I will ki", "ll you", " later.");
        var response = await Filtered(inner, ContentFilter.Default.WithOutputAction(ContentFilterAction.Mask))
            .GetResponseAsync([new ChatMessage(ChatRole.User, "hello")]);
        Assert.Equal("Fine. I will *** later.", response.Text);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
        Assert.Equal(3, response.Usage!.OutputTokenCount);
    }

    [Fact]
    public async Task CleanRepliesPassUnchangedAndHeldBackTextComesBeforeTheEnd()
    {
        var updates = await Stream(Filtered(new Pieces("Hello", " there,", " friend"), ContentFilter.Default), "hi");
        Assert.Equal("Hello there, friend", string.Concat(updates.Select(u => u.Text)));
        Assert.Equal(ChatFinishReason.Stop, updates[^1].FinishReason);
        Assert.EndsWith("friend", updates[^1].Text); // released with the last update, not after it
        Assert.Empty(Blocks(updates));
    }
}
