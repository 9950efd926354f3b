using System.Runtime.CompilerServices;
using GptSharp.Inference;
using GptSharp.Models;
using GptSharp.Tests.Cli;
using GptSharp.Tokenization;
using GptSharp.Chat;
using GptSharp.Chat.Safety;
using GptSharp.Cli.Chat;
using GptSharp.Tests.Chat;
using Microsoft.Extensions.AI;

namespace GptSharp.Tests.Cli.Chat;

public class ChatReplTests
{
    static readonly BpeTokenizer Tokenizer = ScriptedModel.Tokenizer;
    static readonly ChatTemplate Template = ScriptedModel.Template;

    /// <summary>A model that echoes the last user message back (from the prompt), calling <paramref name="onToken"/> before each token.</summary>
    static ScriptedModel Echo(Action<int>? onToken = null) => new((prompt, step, ct) =>
    {
        int start = prompt.Take(prompt.Count - 2).ToList().LastIndexOf(Template.UserId) + 1;
        int[] said = [.. prompt.Skip(start).Take(prompt.Count - 2 - start)];
        if (step >= said.Length) return null;
        onToken?.Invoke(step);
        ct.ThrowIfCancellationRequested();
        return said[step];
    });

    static ChatSession Session(ScriptedModel model, ContentFilter? filter = null, ChatSessionOptions? options = null)
    {
        var builder = new ChatClientBuilder(model.Client());
        if (filter is not null) builder.UseContentFilter(filter);
        return new ChatSession(builder.Build(), options);
    }

    static async Task<(string Output, ChatSession Session)> Run(string input, ScriptedModel? echo = null, ContentFilter? filter = null, ChatSessionOptions? options = null,
        string? reply = null)
    {
        // With a reply: answers every prompt with it, one GPT-2 token at a time.
        var model = reply is null ? echo ?? Echo() : new ScriptedModel(Tokenizer.Encode(reply));
        var session = Session(model, filter, options);
        var output = new StringWriter();
        await new ChatRepl(session, new StringReader(input), output) { PromptMarker = "" }.RunAsync();
        return (output.ToString().ReplaceLineEndings("\n"), session);
    }

    [Fact]
    public async Task RepliesToEachLineUntilEndOfInput()
    {
        var (output, session) = await Run("hello\n\n你好\n");
        Assert.Equal("hello\n你好\n", output);
        Assert.Equal(4, session.History.Count);
    }

    [Fact]
    public async Task CommandsChangeTheSession()
    {
        var echo = Echo();
        var (output, session) = await Run("/set temperature 0.7\n/set top_k 5\n/set top_p 0.9\n/set max_new_tokens 12\nhi\n" +
                                          "/system Be kind.\n/prefix 写：\n/reset\nthere\n/exit\nnever read\n", echo);
        Assert.Equal(new GenerationOptions { Temperature = 0.7, TopK = 5, TopP = 0.9, MaxNewTokens = 12 }, echo.Options[0]);
        Assert.Equal("Be kind.", session.Options.SystemPrompt);
        // /reset forgot "hi"; the prefix went in front of "there"; /exit stopped before the last line.
        Assert.Equal(["写：there", "写：there"], session.History.Select(m => m.Content));
        Assert.Contains("[conversation cleared]", output);
        Assert.DoesNotContain("never read", output);
    }

    [Theory]
    [InlineData("/set temperature -1", "error: invalid generation option: temperature")]
    [InlineData("/set top_k many", "error: \"many\" is not a valid value for top_k")]
    [InlineData("/set warmth 3", "error: unknown setting warmth")]
    [InlineData("/dance", "unknown command /dance")]
    [InlineData("/help", "/set NAME VALUE")]
    public async Task BadCommandsAnswerWithoutLeaving(string line, string expected)
    {
        var (output, session) = await Run(line + "\nstill here\n");
        Assert.Contains(expected, output);
        Assert.EndsWith("still here\n", output);
        Assert.Equal(2, session.History.Count);
    }

    [Fact]
    public async Task CancelStopsOnlyTheReplyInProgress()
    {
        ChatRepl? repl = null;
        var interrupts = new List<ChatInterrupt>();
        var session = Session(Echo(n => { if (n == 2) interrupts.Add(repl!.Interrupt()); }));
        var output = new StringWriter();
        repl = new ChatRepl(session, new StringReader("one two three four\nfive\n"), output) { PromptMarker = "" };
        await repl.RunAsync();
        Assert.Equal([ChatInterrupt.StoppedReply], interrupts);
        Assert.Equal("one two [stopped]\nfive\n", output.ToString().ReplaceLineEndings("\n"));
        Assert.Equal("one two", session.History[1].Content);
    }

    /// <summary>Gives its lines one by one; when they run out it calls <c>AtPrompt</c> (a Ctrl+C while the user is typing)
    /// and then blocks like a terminal with nothing typed, until disposed.</summary>
    sealed class Keyboard(params string[] lines) : TextReader
    {
        readonly Queue<string> queue = new(lines);
        readonly ManualResetEventSlim released = new();
        public Action? AtPrompt { get; init; }

        public override string? ReadLine()
        {
            if (queue.TryDequeue(out var line)) return line;
            AtPrompt?.Invoke();
            released.Wait(TimeSpan.FromSeconds(30));
            return null;
        }

        protected override void Dispose(bool disposing) { released.Set(); base.Dispose(disposing); }
    }

    [Fact]
    public async Task CtrlCStopsTheReplyThenASecondAtThePromptLeaves()
    {
        ChatRepl? repl = null;
        var interrupts = new List<ChatInterrupt>();
        var session = Session(Echo(n => { if (n == 2) interrupts.Add(repl!.Interrupt()); }));
        var output = new StringWriter();
        using var keyboard = new Keyboard("one two three four") { AtPrompt = () => interrupts.Add(repl!.Interrupt()) };
        repl = new ChatRepl(session, keyboard, output) { PromptMarker = "> " };
        await repl.RunAsync().WaitAsync(TimeSpan.FromSeconds(20)); // returns although the keyboard never gives a line
        Assert.Equal([ChatInterrupt.StoppedReply, ChatInterrupt.Leaving], interrupts);
        Assert.Equal("> one two [stopped]\n> \n", output.ToString().ReplaceLineEndings("\n"));
        Assert.Equal(["one two three four", "one two"], session.History.Select(m => m.Content));
    }

    [Fact]
    public async Task ARealModelsReplyStoppedAfterSomeTokensIsKeptAsShownAndTheNextTurnWorks()
    {
        const int shownTokens = 4;
        using var model = Gpt.Create(new GptConfig { VocabSize = 50261, BlockSize = 96, NLayer = 1, NHead = 2, NEmbd = 32 }, seed: 5);
        using var engine = new GptChatClient(model, Tokenizer, "tiny");
        // Never ends early, so a reply always has more tokens to stop.
        var options = new ChatSessionOptions { Generation = new() { DoSample = false, MaxNewTokens = 8, MinNewTokens = 8 } };
        ChatRepl? repl = null;
        var requests = new List<ChatMessage[]>();
        var replies = new List<List<int>>();
        var usage = new List<UsageDetails>();
        var client = new Watching(engine, messages => { requests.Add(messages); replies.Add([]); }, update =>
        {
            if (update.RawRepresentation is TextDelta delta) replies[^1].AddRange(delta.Ids);
            usage.AddRange(update.Contents.OfType<UsageContent>().Select(u => u.Details));
            // Ctrl+C while the first reply's token is on screen: generation must stop before its next token.
            if (requests.Count == 1 && replies[^1].Count == shownTokens) Assert.Equal(ChatInterrupt.StoppedReply, repl!.Interrupt());
        });
        var session = new ChatSession(client, options);
        var output = new StringWriter();
        repl = new ChatRepl(session, new StringReader("Hello there\nAnd now?\n"), output) { PromptMarker = "" };
        await repl.RunAsync();

        Assert.Equal(shownTokens, replies[0].Count);
        Assert.Equal(8, replies[1].Count);
        var decoder = Tokenizer.CreateStreamDecoder(skipSpecialTokens: true);
        string shown = string.Concat(replies[0].Select(decoder.Append)); // what the REPL printed: no half characters
        var lines = output.ToString().ReplaceLineEndings("\n").Split('\n');
        Assert.Equal(shown + " [stopped]", lines[0]);
        Assert.DoesNotContain("[stopped]", lines[1]);
        // The history holds the stopped reply as shown, and the next prompt is built from exactly that.
        Assert.Equal(4, session.History.Count);
        Assert.Equal(shown, session.History[1].Content);
        Assert.Equal(session.History.Take(3).Select(t => t.Content), requests[1].Select(m => m.Text));
        Assert.Equal(Template.RenderPrompt(session.History.Take(3)).Length, Assert.Single(usage).InputTokenCount);
        Assert.Equal(Tokenizer.DecodeText(replies[1]), session.History[3].Content);
    }

    /// <summary>Passes a client's updates on, telling <paramref name="sent"/> each request and <paramref name="shown"/> each update once it was taken.</summary>
    sealed class Watching(IChatClient inner, Action<ChatMessage[]> sent, Action<ChatResponseUpdate> shown) : DelegatingChatClient(inner)
    {
        public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
            [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            sent([.. messages]);
            await foreach (var update in base.GetStreamingResponseAsync(messages, options, cancellationToken))
            {
                yield return update;
                shown(update);
            }
        }
    }

    [Fact]
    public async Task RefusalsAndBlocksAreShown()
    {
        var (output, _) = await Run("you idiot\n", filter: ContentFilter.Default);
        Assert.Equal($"[message blocked: insult]\n{ContentFilter.Default.Refusal}\n", output);
    }

    [Fact]
    public async Task AMaskedReplyReadsCleanly()
    {
        // The reported symptom: "You can retu[reply blocked: test]\nrn the tea kettle within ***".
        var filter = ContentFilter.Parse("""{ "categories": { "test": { "words": ["30 days"] } }, "output_action": "mask" }""", "test rules");
        var (output, session) = await Run("Can I return it?\nthanks\n", filter: filter,
            reply: "You can return the tea kettle within 30 days");
        Assert.Equal("You can return the tea kettle within ***\n[masked by the content filter: test]\nYou can return the tea kettle within ***\n" +
                     "[masked by the content filter: test]\n", output);
        Assert.Equal("You can return the tea kettle within ***", session.History[1].Content);
    }

    [Fact]
    public async Task AStoppedReplyIsSaidAfterItsText()
    {
        var (output, _) = await Run("Hello\n", filter: ContentFilter.Default, reply: "Well, I will kill you now");
        Assert.Equal("Well, I will \n[reply stopped by the content filter: violence]\n", output);
    }

    [Fact]
    public async Task ChatCommandChecksTheFilterBeforeLoadingTheModel()
    {
        using var dir = new Fixture.TempDir();
        var (code, _, error) = await CliRunner.Run("chat", "--model", dir["no-model"], "--filter", dir["missing.json"]);
        Assert.Equal(1, code);
        Assert.Equal($"error: {dir["missing.json"]}: content filter rules file not found\n", error.ReplaceLineEndings("\n"));

        (code, _, error) = await CliRunner.Run("chat", "--model", dir["no-model"], "--filter-action", "hide");
        Assert.Equal(1, code);
        Assert.Contains("output_action \"hide\" is unknown", error);
    }
}
