using System.Runtime.CompilerServices;
using GptSharp.Inference;
using GptSharp.Tests.Cli;
using GptSharp.Tokenization;

namespace GptSharp.Tests.Chat;

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

    static async Task<(string Output, ChatSession Session)> Run(string input, Echo? echo = null, ContentFilter? filter = null, ChatSessionOptions? options = null)
    {
        echo ??= new Echo();
        var session = new ChatSession(Tokenizer, 256, echo.Reply, options, filter);
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
        var echo = new Echo { OnToken = n => { if (n == 2) repl!.CancelReply(); return Task.CompletedTask; } };
        var session = new ChatSession(Tokenizer, 256, echo.Reply);
        var output = new StringWriter();
        repl = new ChatRepl(session, new StringReader("one two three four\nfive\n"), output) { PromptMarker = "" };
        Assert.False(repl.CancelReply());
        await repl.RunAsync();
        Assert.Equal("one two [stopped]\nfive\n", output.ToString().ReplaceLineEndings("\n"));
        Assert.Equal("one two", session.History[1].Content);
    }

    [Fact]
    public async Task RefusalsAndBlocksAreShown()
    {
        var (output, _) = await Run("you idiot\n", filter: ContentFilter.Default);
        Assert.Equal($"[message blocked: insult]\n{ContentFilter.Default.Refusal}\n", output);
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
