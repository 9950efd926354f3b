using System.Runtime.CompilerServices;
using GptSharp.Data;
using GptSharp.Inference;
using GptSharp.Models;
using GptSharp.Tokenization;
using TorchSharp;
using GptSharp.Chat;
using GptSharp.Chat.Safety;
using GptSharp.Tests.Inference;

namespace GptSharp.Tests.Chat;

public class ChatSessionTests
{
    static readonly BpeTokenizer Tokenizer = BpeTokenizer.Gpt2();
    static readonly ChatTemplate Template = new(Tokenizer);

    /// <summary>A stand-in for the model: answers every prompt with the given ids, and records the prompts.</summary>
    sealed class Script(params int[] ids)
    {
        public List<int[]> Prompts { get; } = [];

        public async IAsyncEnumerable<int> Reply(IReadOnlyList<int> prompt, GenerationOptions options, [EnumeratorCancellation] CancellationToken ct)
        {
            Prompts.Add([.. prompt]);
            foreach (int id in ids)
            {
                await Task.Yield();
                ct.ThrowIfCancellationRequested();
                yield return id;
            }
        }

        public string LastPrompt => Tokenizer.Decode(Prompts[^1]);
    }

    static ChatSession Session(Script script, int context = 256, ChatSessionOptions? options = null, ContentFilter? filter = null) =>
        new(Tokenizer, context, script.Reply, options, filter);

    static int[] Ids(string text) => Tokenizer.Encode(text);

    [Fact]
    public async Task ReplyStopsAtEndAndJoinsTheHistory()
    {
        var script = new Script([.. Ids("Hello there"), Template.EndId, .. Ids(" never shown")]);
        var session = Session(script);
        Assert.Equal("Hello there", await session.ReplyAsync("Hi"));
        Assert.Equal([new ChatTurn(TurnRole.User, "Hi"), new ChatTurn(TurnRole.Assistant, "Hello there")], session.History);

        await session.ReplyAsync("And again?");
        // The second prompt is the whole conversation, ending with <|assistant|>.
        Assert.Equal(Template.RenderPrompt([.. session.History.Take(3)]), script.Prompts[1]);
    }

    [Fact]
    public async Task StreamedPiecesNeverSplitACharacter()
    {
        // "诗" is three UTF-8 bytes spread over GPT-2 byte tokens: no piece may hold half of it.
        var script = new Script([.. Ids("一首诗🌹"), Template.EndId]);
        var pieces = new List<string>();
        await foreach (var p in Session(script).ReplyStreamingAsync("写")) pieces.Add(p);
        Assert.Equal("一首诗🌹", string.Concat(pieces));
        Assert.DoesNotContain(pieces, p => p.Contains('\uFFFD'));
        Assert.True(pieces.Count > 1);
    }

    [Fact]
    public async Task SystemPromptAndPrefixAreRendered()
    {
        var script = new Script([.. Ids("玫瑰"), Template.EndId]);
        var session = Session(script, options: new() { SystemPrompt = "You are a poet.", UserPrefix = "写一首浪漫的诗：" });
        await session.ReplyAsync("月亮");
        Assert.Equal(Template.RenderPrompt([new(TurnRole.System, "You are a poet."), new(TurnRole.User, "写一首浪漫的诗：月亮")]), script.Prompts[0]);
        Assert.Equal("写一首浪漫的诗：月亮", session.History[0].Content);
    }

    [Fact]
    public async Task TrimmingDropsTheOldestExchangesAndKeepsTheSystemPrompt()
    {
        var script = new Script([.. Ids(" okay then"), Template.EndId]);
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
        var script = new Script(Template.EndId);
        var session = Session(script, context: 40, options: new() { SystemPrompt = "Be brief.", ReplyRoom = 20 });
        var e = await Assert.ThrowsAsync<GptSharpException>(() => session.ReplyAsync(string.Concat(Enumerable.Repeat(" word", 30))));
        Assert.Contains("with the system prompt but only 20 fit", e.Message);
        Assert.Empty(script.Prompts);
        Assert.Empty(session.History);
    }

    [Fact]
    public async Task ACancelledReplyIsKeptAsFarAsItWasShown()
    {
        var script = new Script([.. Ids(" one two three four five six")]);
        var session = Session(script);
        using var cts = new CancellationTokenSource();
        var shown = new List<string>();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var p in session.ReplyStreamingAsync("count", cts.Token))
            {
                shown.Add(p);
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
        var script = new Script([.. Ids("sure"), Template.EndId]);
        var blocks = new List<ContentFilterBlock>();
        var session = Session(script, filter: ContentFilter.Default);
        session.Blocked += blocks.Add;
        Assert.Equal(ContentFilter.Default.Refusal, await session.ReplyAsync("我要杀了你"));
        Assert.Empty(script.Prompts);
        Assert.Empty(session.History);
        Assert.Equal([new ContentFilterBlock("violence", "杀了你", ContentFilterSide.Input)], blocks);
    }

    [Fact]
    public async Task BannedPhraseInTheReplyIsCaughtAcrossTokens()
    {
        var reply = Ids("Fine. I will kill you later.");
        var blocks = new List<ContentFilterBlock>();
        var session = Session(new Script([.. reply, Template.EndId]), filter: ContentFilter.Default);
        session.Blocked += blocks.Add;
        Assert.Equal("Fine. I will ", await session.ReplyAsync("hello"));
        Assert.Equal("Fine. I will ", session.History[^1].Content);
        Assert.Equal(ContentFilterSide.Output, Assert.Single(blocks).Where);

        var masking = Session(new Script([.. reply, Template.EndId]), filter: ContentFilter.Default.WithOutputAction(ContentFilterAction.Mask));
        Assert.Equal("Fine. I will *** later.", await masking.ReplyAsync("hello"));
    }

    static Gpt ModelThatAlwaysSays(int favourite) => GptSharp.Tests.Inference.BiasedModel.AlwaysSays(favourite);

    [Fact]
    public async Task ARealModelStopsAtEnd()
    {
        using var model = ModelThatAlwaysSays(Template.EndId);
        var options = new ChatSessionOptions { Generation = new() { DoSample = false, MaxNewTokens = 10 } };
        var session = new ChatSession(model, Tokenizer, options);
        Assert.Equal("", await session.ReplyAsync("Hi"));
        Assert.Equal(2, session.History.Count);

        using var chatty = ModelThatAlwaysSays(Ids(" la")[0]);
        Assert.Equal(string.Concat(Enumerable.Repeat(" la", 10)), await new ChatSession(chatty, Tokenizer, options).ReplyAsync("Sing"));
    }

    [Fact]
    public void AModelWithoutRoleTokensIsRefused()
    {
        using var model = Gpt.Create(new GptConfig { VocabSize = 50257, BlockSize = 16, NLayer = 1, NHead = 2, NEmbd = 32 });
        var e = Assert.Throws<GptSharpException>(() => new ChatSession(model, Tokenizer));
        Assert.Contains("role tokens", e.Message);
    }
}
