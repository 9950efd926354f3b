using System.Text.RegularExpressions;
using GptSharp.Tests.Cli;

namespace GptSharp.Tests.Samples;

/// <summary>
/// README.md's C# code compiles: every ```csharp block is, word for word, part of samples/LibraryTour/Program.cs, which
/// the solution builds — except the Serving section's client, which is part of a test that runs it against a server.
/// </summary>
public class ReadmeCodeTests
{
    static string Read(params string[] path) => File.ReadAllText(Path.Combine([ReadmeCommandsTests.RepoRoot, .. path])).ReplaceLineEndings("\n");

    [Fact]
    public void EveryCSharpBlockOfTheReadmeIsInTheLibraryTour()
    {
        string program = Read("samples", "LibraryTour", "Program.cs");
        string readme = Read("README.md");
        // The Serving section's client code runs against a server instead: Server/ReadmeServingTests holds it.
        int serving = readme.IndexOf("## Serving", StringComparison.Ordinal), after = readme.IndexOf("\n## ", serving + 1, StringComparison.Ordinal);
        static string Unindented(string code) => Regex.Replace(code, @"(?m)^[ \t]+", "");
        string servingTest = Unindented(Read("tests", "GptSharp.Tests", "Server", "ReadmeServingTests.cs"));
        var servingBlocks = Blocks(readme[serving..after]);
        Assert.Single(servingBlocks);
        Assert.True(servingTest.Contains(Unindented(servingBlocks[0]), StringComparison.Ordinal), $"README Serving block not in Server/ReadmeServingTests.cs:\n{servingBlocks[0]}");
        var blocks = Blocks(readme[..serving] + readme[after..]);
        Assert.Equal(4, blocks.Length); // load + stream, chat with middleware, fine-tuning in memory with a callback, a tuning study
        Assert.All(blocks, b => Assert.True(program.Contains(b, StringComparison.Ordinal), $"README block not in samples/LibraryTour/Program.cs:\n{b}"));
        // "Load a model directory and stream a reply in three lines": as text, and as a chat reply.
        Assert.All(blocks[..2], b => Assert.Equal(3, b.Split('\n').Length));
    }

    static string[] Blocks(string markdown) =>
        Regex.Matches(markdown, @"```csharp\n(.*?)```", RegexOptions.Singleline).Select(m => m.Groups[1].Value.TrimEnd('\n')).ToArray();

    [Fact]
    public void TheSolutionBuildsTheLibraryTour() =>
        Assert.Contains(@"samples\LibraryTour\LibraryTour.csproj", Read("GptSharp.sln"));
}
