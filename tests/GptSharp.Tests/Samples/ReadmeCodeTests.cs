using System.Text.RegularExpressions;
using GptSharp.Tests.Cli;

namespace GptSharp.Tests.Samples;

/// <summary>
/// README.md's C# code compiles: every ```csharp block is, word for word, part of samples/LibraryTour/Program.cs, which
/// the solution builds.
/// </summary>
public class ReadmeCodeTests
{
    static string Read(params string[] path) => File.ReadAllText(Path.Combine([ReadmeCommandsTests.RepoRoot, .. path])).ReplaceLineEndings("\n");

    [Fact]
    public void EveryCSharpBlockOfTheReadmeIsInTheLibraryTour()
    {
        string program = Read("samples", "LibraryTour", "Program.cs");
        var blocks = Regex.Matches(Read("README.md"), @"```csharp\n(.*?)```", RegexOptions.Singleline).Select(m => m.Groups[1].Value.TrimEnd('\n')).ToArray();
        Assert.Equal(4, blocks.Length); // load + stream, chat with middleware, fine-tuning in memory with a callback, a tuning study
        Assert.All(blocks, b => Assert.True(program.Contains(b, StringComparison.Ordinal), $"README block not in samples/LibraryTour/Program.cs:\n{b}"));
        // "Load a model directory and stream a reply in three lines": as text, and as a chat reply.
        Assert.All(blocks[..2], b => Assert.Equal(3, b.Split('\n').Length));
    }

    [Fact]
    public void TheSolutionBuildsTheLibraryTour() =>
        Assert.Contains(@"samples\LibraryTour\LibraryTour.csproj", Read("GptSharp.sln"));
}
