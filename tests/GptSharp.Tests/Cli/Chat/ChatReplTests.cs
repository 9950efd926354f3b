using System.Runtime.CompilerServices;
using GptSharp.Inference;
using GptSharp.Models;
using GptSharp.Tests.Cli;
using GptSharp.Tokenization;
using GptSharp.Chat;
using GptSharp.Chat.Safety;
using GptSharp.Cli.Chat;

namespace GptSharp.Tests.Cli.Chat;

public class ChatReplTests
{
    static readonly BpeTokenizer Tokenizer = BpeTokenizer.Gpt2();
    static readonly ChatTemplate Template = new(Tokenizer);

    /// <summary>Echoes the last user message back (from the prompt) and records the options each reply used.</summary>
    sealed class Echo
    {
        public List<GenerationOptions> Options { get; } = [];
        public Func<int, Task>? OnToken { get; init; }

        public async IAsyncEnumerable<int> Reply(IReadOnlyList<int> prompt, GenerationOptions options, [EnumeratorCancellation] CancellationToken ct)
        {
            Options.Add(options);
            int start = prompt.Take(prompt.Count - 2).ToList().LastIndexOf(Template.UserId) + 1;
            int n = 0;
            foreach (int id in prompt.Skip(start).Take(prompt.Count - 2 - start))
            {
                if (OnToken is not null) await OnToken(n++);
                ct.ThrowIfCancellationRequested();
                yield return id;
            }
            yield return Template.EndId;
        }
    }

    /// <summary>Answers every prompt with <paramref name="reply"/>, one GPT-2 token at a time.</summary>
    static async IAsyncEnumerable<int> Says(string reply)
    {
        foreach (int id in Tokenizer.Encode(reply))
        {
            await Task.Yield();
            yield return id;
        }
        yield return Template.EndId;
    }

    static async Task<(string Output, ChatSession Session)> Run(string input, Echo? echo = null, ContentFilter? filter = null, ChatSessionOptions? options = null,
        string? reply = null)
    {
        echo ??= new Echo();
        var session = reply is null ? new ChatSession(Tokenizer, 256, echo.Reply, options, filter)
            : new ChatSession(Tokenizer, 256, (_, _, _) => Says(reply), options, filter);
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
        var echo = new Echo();
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
        var echo = new Echo { OnToken = n => { if (n == 2) interrupts.Add(repl!.Interrupt()); return Task.CompletedTask; } };
        var session = new ChatSession(Tokenizer, 256, echo.Reply);
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
        var echo = new Echo { OnToken = n => { if (n == 2) interrupts.Add(repl!.Interrupt()); return Task.CompletedTask; } };
        var session = new ChatSession(Tokenizer, 256, echo.Reply);
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
        var generator = new TextGenerator(model, endOfTextId: Template.EndId);
        // Never ends early, so a reply always has more tokens to stop.
        var options = new ChatSessionOptions { Generation = new() { DoSample = false, MaxNewTokens = 8, MinNewTokens = 8 } };
        ChatRepl? repl = null;
        var prompts = new List<int[]>();
        var replies = new List<List<int>>();
        async IAsyncEnumerable<int> Tokens(IReadOnlyList<int> prompt, GenerationOptions o, [EnumeratorCancellation] CancellationToken ct)
        {
            prompts.Add([.. prompt]);
            replies.Add([]);
            await foreach (int id in generator.StreamAsync(prompt, o with { StopAtEndOfText = true }, ct))
            {
                replies[^1].Add(id);
                yield return id;
                // Ctrl+C while the first reply's token is on screen: generation must stop before its next token.
                if (prompts.Count == 1 && replies[^1].Count == shownTokens) Assert.Equal(ChatInterrupt.StoppedReply, repl!.Interrupt());
            }
        }
        var session = new ChatSession(Tokenizer, model.Config.BlockSize, Tokens, options);
        var output = new StringWriter();
        repl = new ChatRepl(session, new StringReader("Hello there\nAnd now?\n"), output) { PromptMarker = "" };
        await repl.RunAsync();

        Assert.Equal(shownTokens, replies[0].Count);
        Assert.Equal(8, replies[1].Count);
        var decoder = Tokenizer.CreateStreamDecoder();
        string shown = string.Concat(replies[0].Select(decoder.Append)); // what the REPL printed: no half characters
        var lines = output.ToString().ReplaceLineEndings("\n").Split('\n');
        Assert.Equal(shown + " [stopped]", lines[0]);
        Assert.DoesNotContain("[stopped]", lines[1]);
        // The history holds the stopped reply as shown, and the next prompt is built from exactly that.
        Assert.Equal(4, session.History.Count);
        Assert.Equal(shown, session.History[1].Content);
        Assert.Equal(Template.RenderPrompt(session.History.Take(3)), prompts[1]);
        Assert.Equal(Tokenizer.Decode(replies[1]), session.History[3].Content);
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
