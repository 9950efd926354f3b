using GptSharp.Chat.Safety;
using GptSharp.Tests.Inference;
using GptSharp.Tokenization;

namespace GptSharp.Tests.Cli.Commands;

/// <summary>`gptsharp chat` end to end: a chat model directory, lines on standard input, replies and filter notes on standard output.</summary>
public class ChatCommandTests
{
    static readonly BpeTokenizer Gpt2 = BpeTokenizer.Gpt2();
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    static (int? Code, string Out, string Err) Chat(string dir, string input, params string[] more)
    {
        using var cli = new CliProcess(new Dictionary<string, string?>(), ["chat", "--model", dir, "--device", "cpu", "--max-new-tokens", "3", .. more]);
        cli.Input.Write(input);
        cli.Input.Close();
        int? code = cli.WaitForExit(Timeout);
        return (code, cli.Out.ReplaceLineEndings("\n"), cli.Err);
    }

    [Fact]
    public void RepliesThroughTheEngineAndTheFilter()
    {
        using var tmp = new Fixture.TempDir();
        string dir = BiasedModel.SaveChatModel(tmp["la"], Gpt2.Encode(" la").Single(), """{"do_sample": false}""");
        var (code, output, error) = Chat(dir, "hello\nyou idiot\nagain\n");
        Assert.True(code == 0, $"exit {code}\n{output}\n{error}");
        Assert.Equal($" la la la\n[message blocked: insult]\n{ContentFilter.Default.Refusal}\n la la la\n", output);
    }

    [Fact]
    public void AReplyTheFilterStopsIsSaidAfterIt()
    {
        using var tmp = new Fixture.TempDir();
        string dir = BiasedModel.SaveChatModel(tmp["rude"], Gpt2.Encode(" idiot").Single(), """{"do_sample": false}""");
        var (code, output, error) = Chat(dir, "hi\n");
        Assert.True(code == 0, $"exit {code}\n{output}\n{error}");
        Assert.Equal(" \n[reply stopped by the content filter: insult]\n", output); // cut just before the phrase

        (code, output, error) = Chat(dir, "hi\n", "--filter", "none");
        Assert.True(code == 0, $"exit {code}\n{output}\n{error}");
        Assert.Equal(" idiot idiot idiot\n", output);
    }
}
