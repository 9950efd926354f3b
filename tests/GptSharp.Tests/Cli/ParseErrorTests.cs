namespace GptSharp.Tests.Cli;

/// <summary>A command line that does not parse: one `error:` line (with a suggestion when one is close), exit code 1, no help dump.</summary>
public class ParseErrorTests
{
    [Theory]
    [InlineData("error: unknown option '--promt' for 'gptsharp generate'; did you mean '--prompt'?", "generate", "--promt", "hi")]
    [InlineData("error: unknown command 'generte' for 'gptsharp'; did you mean 'generate'?", "generte", "--model", "m")]
    [InlineData("error: unknown command 'trian' for 'gptsharp tokenizer'; did you mean 'train'?", "tokenizer", "trian")]
    [InlineData("error: unknown option '--verbos' for 'gptsharp report'; did you mean '--verbose'?", "report", "run", "--verbos")]
    [InlineData("error: option '--model' is required", "generate", "--prompt", "hi")]
    [InlineData("error: cannot parse argument 'abc' for option '--temperature' as a number", "generate", "--model", "m", "--temperature", "abc")]
    [InlineData("error: unexpected argument 'extra' for 'gptsharp generate'", "generate", "--model", "m", "extra")]
    [InlineData("error: 'gptsharp tokenizer' needs a command: train", "tokenizer")]
    public async Task OneErrorLineAndNoHelp(string expected, params string[] args)
    {
        var (code, output, err) = await CliRunner.Run(args);
        Assert.Equal(1, code);
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(expected, lines[0]);
        Assert.Single(lines, l => l.StartsWith("error:", StringComparison.Ordinal));
        Assert.Matches("^see 'gptsharp[a-z ]*--help'$", lines[^1]);
        Assert.Equal(2, lines.Length);
        Assert.DoesNotContain("Usage:", output + err);
        Assert.DoesNotContain("Description:", output + err);
    }

    [Fact]
    public async Task HelpStillWorks()
    {
        var (code, output, _) = await CliRunner.Run("generate", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--prompt", output);
    }
}
