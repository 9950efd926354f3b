using GptSharp.Inference;
using GptSharp.Models;
using GptSharp.Tokenization;
using TorchSharp;
using GptSharp.Chat;
using GptSharp.Chat.Safety;
using GptSharp.Tests.Inference;
using Microsoft.Extensions.AI;

namespace GptSharp.Tests.Chat;

public class ChatSessionTests
{
    static readonly BpeTokenizer Tokenizer = ScriptedModel.Tokenizer;
    static readonly ChatTemplate Template = ScriptedModel.Template;

    static ChatSession Session(ScriptedModel script, int context = 256, ChatSessionOptions? options = null, ContentFilter? filter = null)
    {
        var builder = new ChatClientBuilder(script.Client(context));
        if (filter is not null) builder.UseContentFilter(filter);
        return new ChatSession(builder.Build(), options);
    }

    static async Task<string> Reply(ChatSession session, string message) => (await session.ReplyAsync(message)).Text;

    static async Task<List<ChatResponseUpdate>> All(IAsyncEnumerable<ChatResponseUpdate> updates)
    {
        var list = new List<ChatResponseUpdate>();
        await foreach (var u in updates) list.Add(u);
        return list;
    }

    static ContentFilterBlock[] Blocks(IEnumerable<ChatResponseUpdate> updates) =>
        [.. updates.SelectMany(u => u.Contents.OfType<ContentFilterBlockContent>()).Select(c => c.Block)];

    static int[] Ids(string text) => Tokenizer.Encode(text);

    [Fact]
    public async Task ReplyStopsAtEndAndJoinsTheHistory()
    {
        var script = new ScriptedModel([.. Ids("Hello there"), Template.EndId, .. Ids(" never shown")]);
        var session = Session(script);
        Assert.Equal("Hello there", await Reply(session, "Hi"));
        Assert.Equal([new ChatTurn(TurnRole.User, "Hi"), new ChatTurn(TurnRole.Assistant, "Hello there")], session.History);

        await session.ReplyAsync("And again?");
        // The second prompt is the whole conversation, ending with <|assistant|>.
        Assert.Equal(Template.RenderPrompt([.. session.History.Take(3)]), script.Prompts[1]);
    }

    [Fact]
    public async Task StreamedPiecesNeverSplitACharacter()
    {
        // "诗" is three UTF-8 bytes spread over GPT-2 byte tokens: no piece may hold half of it.
        var script = new ScriptedModel([.. Ids("一首诗🌹"), Template.EndId]);
        var pieces = (await All(Session(script).ReplyStreamingAsync("写"))).Select(u => u.Text).Where(t => t.Length > 0).ToList();
        Assert.Equal("一首诗🌹", string.Concat(pieces));
        Assert.DoesNotContain(pieces, p => p.Contains('\uFFFD'));
        Assert.True(pieces.Count > 1);
    }

    [Fact]
    public async Task SystemPromptAndPrefixAreRendered()
    {
        var script = new ScriptedModel([.. Ids("玫瑰"), Template.EndId]);
        var session = Session(script, options: new() { SystemPrompt = "You are a poet.", UserPrefix = "写一首浪漫的诗：" });
        await session.ReplyAsync("月亮");
        Assert.Equal(Template.RenderPrompt([new(TurnRole.System, "You are a poet."), new(TurnRole.User, "写一首浪漫的诗：月亮")]), script.Prompts[0]);
        Assert.Equal("写一首浪漫的诗：月亮", session.History[0].Content);
    }

    [Fact]
    public async Task TrimmingDropsTheOldestExchangesAndKeepsTheSystemPrompt()
    {
        var script = new ScriptedModel([.. Ids(" okay then"), Template.EndId]);
        var session = Session(script, context: 60, options: new() { SystemPrompt = "Be brief.", ReplyRoom = 10 });
        for (int turn = 1; turn <= 6; turn++) await session.ReplyAsync($"message number {turn}");

        Assert.Equal(12, session.History.Count); // the history keeps everything
        string last = script.LastPrompt;
        Assert.StartsWith("<|system|>Be brief.<|end|><|user|>", last);
        Assert.EndsWith("<|user|>message number 6<|end|><|assistant|>", last);
        Assert.DoesNotContain("message number 1", last);
        Assert.Contains("message number 5", last);
        Assert.True(script.Prompts[^1].Length <= 60 - 10);
        // Whole exchanges go: the first user turn kept still has its reply after it.
        Assert.Matches(@"^<\|system\|>Be brief\.<\|end\|>(<\|user\|>message number \d<\|end\|><\|assistant\|> okay then<\|end\|>)+<\|user\|>message number 6", last);
        // Without the room for the reply more turns would fit.
        Assert.True(script.Prompts[^1].Length > 60 - 10 - 14);
    }

    [Fact]
    public async Task AMessageThatCannotFitIsAClearError()
    {
        var script = new ScriptedModel(Template.EndId);
        var session = Session(script, context: 40, options: new() { SystemPrompt = "Be brief.", ReplyRoom = 20 });
        var e = await Assert.ThrowsAsync<GptSharpException>(() => session.ReplyAsync(string.Concat(Enumerable.Repeat(" word", 30))));
        Assert.Contains("with the system prompt but only 20 fit", e.Message);
        Assert.Empty(script.Prompts);
        Assert.Empty(session.History);
    }

    [Fact]
    public async Task ACancelledReplyIsKeptAsFarAsItWasShown()
    {
        var script = new ScriptedModel([.. Ids(" one two three four five six")]);
        var session = Session(script);
        using var cts = new CancellationTokenSource();
        var shown = new List<string>();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var u in session.ReplyStreamingAsync("count", cts.Token))
            {
                shown.Add(u.Text);
                if (shown.Count == 2) cts.Cancel();
            }
        });
        Assert.Equal(" one two", string.Concat(shown));
        Assert.Equal(new ChatTurn(TurnRole.Assistant, " one two"), session.History[^1]);

        session.Reset();
        Assert.Empty(session.History);
    }

    [Fact]
    public async Task RefusedInputNeverReachesTheModel()
    {
        var script = new ScriptedModel([.. Ids("sure"), Template.EndId]);
        var session = Session(script, filter: ContentFilter.Default);
        var updates = await All(session.ReplyStreamingAsync("我要杀了你"));
        Assert.Equal(ContentFilter.Default.Refusal, string.Concat(updates.Select(u => u.Text)));
        Assert.Empty(script.Prompts);
        Assert.Empty(session.History);
        Assert.Equal([new ContentFilterBlock("violence", "杀了你", ContentFilterSide.Input)], Blocks(updates));
        Assert.Equal(ChatFinishReason.ContentFilter, updates[^1].FinishReason);
    }

    [Fact]
    public async Task BannedPhraseInTheReplyIsCaughtAcrossTokens()
    {
        var reply = Ids("Fine. I will kill you later.");
        var session = Session(new ScriptedModel([.. reply, Template.EndId]), filter: ContentFilter.Default);
        var updates = await All(session.ReplyStreamingAsync("hello"));
        Assert.Equal("Fine. I will ", string.Concat(updates.Select(u => u.Text)));
        Assert.Equal("Fine. I will ", session.History[^1].Content);
        Assert.Equal(ContentFilterSide.Output, Assert.Single(Blocks(updates)).Where);
        Assert.Equal(ChatFinishReason.ContentFilter, updates[^1].FinishReason);

        var masking = Session(new ScriptedModel([.. reply, Template.EndId]), filter: ContentFilter.Default.WithOutputAction(ContentFilterAction.Mask));
        var masked = await masking.ReplyAsync("hello");
        Assert.Equal("Fine. I will *** later.", masked.Text);
        Assert.Equal(ChatFinishReason.Stop, masked.FinishReason);
    }

    static Gpt ModelThatAlwaysSays(int favourite) => GptSharp.Tests.Inference.BiasedModel.AlwaysSays(favourite);

    [Fact]
    public async Task ARealModelStopsAtEnd()
    {
        using var model = ModelThatAlwaysSays(Template.EndId);
        var options = new ChatSessionOptions { Generation = new() { DoSample = false, MaxNewTokens = 10 } };
        using var client = new GptChatClient(model, Tokenizer, "tiny");
        var session = new ChatSession(client, options);
        Assert.Equal("", await Reply(session, "Hi"));
        Assert.Equal(2, session.History.Count);

        using var chatty = ModelThatAlwaysSays(Ids(" la")[0]);
        using var chattyClient = new GptChatClient(chatty, Tokenizer, "tiny");
        Assert.Equal(string.Concat(Enumerable.Repeat(" la", 10)), await Reply(new ChatSession(chattyClient, options), "Sing"));
    }

    [Fact]
    public void AModelWithoutRoleTokensIsRefused()
    {
        using var model = Gpt.Create(new GptConfig { VocabSize = 50257, BlockSize = 16, NLayer = 1, NHead = 2, NEmbd = 32 });
        var e = Assert.Throws<GptSharpException>(() => new GptChatClient(model, Tokenizer, "plain"));
        Assert.Contains("role tokens", e.Message);
    }

    /// <summary>Any chat client: answers with the number of messages it was sent, and records them.</summary>
    sealed class CountingClient : IChatClient
    {
        public List<List<ChatMessage>> Requests { get; } = [];
        public List<ChatOptions?> Options { get; } = [];

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken);

        public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
            [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            Requests.Add([.. messages]);
            Options.Add(options);
            await Task.Yield();
            yield return new ChatResponseUpdate(ChatRole.Assistant, $"{Requests[^1].Count} messages");
            yield return new ChatResponseUpdate(ChatRole.Assistant, ", thanks") { FinishReason = ChatFinishReason.Stop };
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;
        public void Dispose() { }
    }

    [Fact]
    public async Task ASessionWorksOverAnyChatClient()
    {
        var client = new CountingClient();
        var session = new ChatSession(client, new ChatSessionOptions
        {
            SystemPrompt = "Be brief.", UserPrefix = "Q: ", Generation = new() { DoSample = false, MaxNewTokens = 7, TopK = 3, Seed = 5 },
        });
        Assert.Null(session.Window); // the client offers none: nothing is trimmed
        Assert.Equal("2 messages, thanks", await Reply(session, "one"));
        var second = await session.ReplyAsync("two");
        Assert.Equal("4 messages, thanks", second.Text);
        Assert.Equal(ChatFinishReason.Stop, second.FinishReason);

        Assert.Equal([(ChatRole.System, "Be brief."), (ChatRole.User, "Q: one"), (ChatRole.Assistant, "2 messages, thanks"), (ChatRole.User, "Q: two")],
            client.Requests[1].Select(m => (m.Role, m.Text)));
        Assert.Equal([new ChatTurn(TurnRole.User, "Q: one"), new ChatTurn(TurnRole.Assistant, "2 messages, thanks"),
                      new ChatTurn(TurnRole.User, "Q: two"), new ChatTurn(TurnRole.Assistant, "4 messages, thanks")], session.History);
        // The common settings go as ChatOptions (greedy as temperature 0), the whole GenerationOptions as the raw representation.
        var o = client.Options[0]!;
        Assert.Equal((7, 0f, 3, 5L), (o.MaxOutputTokens, o.Temperature, o.TopK, o.Seed));
        Assert.Same(session.Options.Generation, o.RawRepresentationFactory!(client));
    }

    [Fact]
    public async Task TheGptChatClientOffersItsContextWindowThroughMiddleware()
    {
        var script = new ScriptedModel(Ids(" ok"));
        using var client = new ChatClientBuilder(script.Client(context: 48)).UseContentFilter(ContentFilter.Default).Build();
        var session = new ChatSession(client);
        Assert.Equal(48, session.Window!.ContextSize);
        Assert.Equal(Template.RenderMessage(new(TurnRole.User, "hello there")).Ids.Length, session.Window.Cost(new(TurnRole.User, "hello there")));
        Assert.Equal(" ok", await Reply(session, "hi"));
    }
}
