using System.Text.RegularExpressions;

namespace GptSharp.Tests.Cli.Commands;

/// <summary>--help says what the commands do (README.md), not something else.</summary>
public class HelpTextTests
{
    static async Task<string> Help(params string[] command)
    {
        var (code, output, err) = await CliRunner.Run([.. command, "--help"]);
        Assert.True(code == 0, err);
        return output;
    }

    [Fact]
    public async Task GenerateSaysTheDefaultsComeFromTheModel()
    {
        // One entry per option, wrapped lines joined.
        var entries = Regex.Split(await Help("generate"), @"\n\s*(?=-)").Select(e => Regex.Replace(e, @"\s+", " ").Trim()).ToList();
        string Entry(string option) => entries.Single(e => e.StartsWith(option + " ", StringComparison.Ordinal));
        // Options not given are taken from the model's generation_config.json: no fixed "[default: …]" may claim otherwise.
        foreach (var option in new[] { "--temperature", "--top-k", "--top-p", "--max-new-tokens", "--min-new-tokens", "--repetition-penalty",
                     "--no-repeat-ngram-size", "--num-beams", "--length-penalty", "--greedy" })
        {
            Assert.DoesNotContain("[default:", Entry(option));
            Assert.Contains("generation_config.json", Entry(option));
        }
        Assert.Contains("generation_config.json, else 1)", Entry("--temperature"));
        Assert.Contains("generation_config.json, else 50)", Entry("--top-k"));
    }

    [Fact]
    public async Task ChatSaysTheDefaultsComeFromTheModel()
    {
        string help = Regex.Replace(await Help("chat"), @"\s+", " ");
        foreach (var option in new[] { "--temperature", "--top-k", "--top-p", "--max-new-tokens" })
            Assert.Matches(Regex.Escape(option) + @" <[a-z-]+> [^\[]*?\(default: the model's generation_config\.json", help);
    }

    [Fact]
    public async Task QuantizeSaysItInfersInInt8()
    {
        string help = await Help("quantize");
        Assert.DoesNotContain("dequantising", help);
        Assert.DoesNotContain("same memory and speed", help);
        Assert.Contains("int8", help);
    }
}
