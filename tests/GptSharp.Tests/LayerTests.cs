using System.Reflection;
using NetArchTest.Rules;
using GptSharp.Cli;

namespace GptSharp.Tests;

/// <summary>
/// The library's folders are layers: each uses only the folders listed for it here (read bottom-up), the table has no
/// cycle, and the references actually compiled into GptSharp.dll form no cycle either. A change that needs a new arrow
/// has to add it here, where a reviewer sees it.
/// </summary>
public class LayerTests
{
    /// <summary>Folder → the folders it may use. The root namespace (<c>GptSharpException</c>, <c>NameSuggestions</c>) is open to all.</summary>
    public static readonly IReadOnlyDictionary<string, string[]> Allowed = new Dictionary<string, string[]>
    {
        // 1: no dependencies inside the library
        ["Native"] = [],
        ["IO"] = [],
        // 2
        ["Tokenization"] = ["IO"],
        // 3
        ["Data"] = ["IO", "Tokenization"],
        ["Models"] = ["Native"], // only Models.Quantized may: see ModelsCoreUsesNeitherNativeNorCompression
        // 4
        ["Inference"] = ["Models", "Tokenization", "IO"],
        ["Checkpoints"] = ["Inference", "Models", "Tokenization", "IO", "Native"],
        // 5
        ["Chat"] = ["Checkpoints", "Inference", "Models", "Tokenization", "IO", "Native"],
        ["Evaluation"] = ["Checkpoints", "Inference", "Data", "Models", "Tokenization", "IO", "Native"],
        ["Compression"] = ["Checkpoints", "Models", "IO", "Native"],
        ["Training"] = ["Evaluation", "Checkpoints", "Inference", "Data", "Models", "Tokenization", "IO", "Native"],
    };

    static readonly Assembly Library = typeof(GptSharpException).Assembly;

    static string[] Folders() => Library.GetTypes()
        .Select(t => t.Namespace ?? "")
        .Where(n => n.StartsWith("GptSharp.", StringComparison.Ordinal))
        .Select(n => n.Split('.')[1])
        .Distinct().Order().ToArray();

    static bool Uses(string from, string to) =>
        !Types.InAssembly(Library).That().ResideInNamespace($"GptSharp.{from}")
            .Should().NotHaveDependencyOn($"GptSharp.{to}").GetResult().IsSuccessful;

    [Fact]
    public void EveryFolderIsPlacedInTheTable()
    {
        var missing = Folders().Where(f => !Allowed.ContainsKey(f)).ToArray();
        Assert.True(missing.Length == 0, $"folders without a layer in LayerTests.Allowed: {string.Join(", ", missing)}");
    }

    [Fact]
    public void EachFolderUsesOnlyTheFoldersAllowedToIt()
    {
        var failures = new List<string>();
        foreach (var (folder, allowed) in Allowed)
        {
            var forbidden = Allowed.Keys.Where(k => k != folder && !allowed.Contains(k)).Select(k => $"GptSharp.{k}").ToArray();
            var result = Types.InAssembly(Library).That().ResideInNamespace($"GptSharp.{folder}")
                .Should().NotHaveDependencyOnAny(forbidden).GetResult();
            if (!result.IsSuccessful)
                failures.Add($"{folder} uses a folder it may not ({string.Join(", ", forbidden)} are closed to it): " +
                    string.Join(", ", result.FailingTypeNames ?? []));
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public void TheAllowedTableHasNoCycle() => Assert.Null(FindCycle(Allowed.Keys, (a, b) => Allowed[a].Contains(b)));

    [Fact]
    public void TheCompiledFolderGraphHasNoCycle()
    {
        var folders = Folders();
        var edges = folders.SelectMany(a => folders.Where(b => a != b && Uses(a, b)).Select(b => (a, b))).ToHashSet();
        string? cycle = FindCycle(folders, (a, b) => edges.Contains((a, b)));
        Assert.True(cycle is null, $"folders that use each other: {cycle}");
    }

    [Fact]
    public void ModelsCoreUsesNeitherNativeNorCompression()
    {
        var result = Types.InAssembly(Library).That().ResideInNamespace("GptSharp.Models")
            .And().DoNotResideInNamespace("GptSharp.Models.Quantized")
            .Should().NotHaveDependencyOnAny("GptSharp.Native", "GptSharp.Compression").GetResult();
        Assert.True(result.IsSuccessful, string.Join(", ", result.FailingTypeNames ?? []));
    }

    [Fact]
    public void TheLibraryHasNoTerminalOrPlottingCode()
    {
        var result = Types.InAssembly(Library).Should()
            .NotHaveDependencyOnAny("ScottPlot", "SkiaSharp", "Spectre.Console", "System.CommandLine").GetResult();
        Assert.True(result.IsSuccessful, string.Join(", ", result.FailingTypeNames ?? []));
        Assert.DoesNotContain(Library.GetReferencedAssemblies(), a => a.Name is "ScottPlot" or "Spectre.Console" or "System.CommandLine");
    }

    [Fact]
    public void TheCliFoldersAreLayeredToo()
    {
        var cli = typeof(GptSharp.Cli.CliApp).Assembly;
        string[] folders = ["Chat", "Progress", "Report", "Commands"];
        bool CliUses(string from, string to) => !Types.InAssembly(cli).That().ResideInNamespace($"GptSharp.Cli.{from}")
            .Should().NotHaveDependencyOn($"GptSharp.Cli.{to}").GetResult().IsSuccessful;
        // The commands are the top: the REPL, progress views and report drawing never reach back into them.
        Assert.All(folders[..^1], f => Assert.False(CliUses(f, "Commands"), $"Cli.{f} uses Cli.Commands"));
        Assert.Null(FindCycle(folders, CliUses));
    }

    [Fact]
    public void CycleFinderFindsACycle() =>
        Assert.Equal("A → B → C → A", FindCycle(["A", "B", "C"], (a, b) => (a, b) is ("A", "B") or ("B", "C") or ("C", "A")));

    /// <summary>A cycle as "A → B → A", or null when the graph is acyclic (depth-first search).</summary>
    static string? FindCycle(IEnumerable<string> nodes, Func<string, string, bool> edge)
    {
        var all = nodes.ToArray();
        var state = new Dictionary<string, int>(); // 1 on the stack, 2 done
        var stack = new List<string>();
        string? Visit(string n)
        {
            state[n] = 1;
            stack.Add(n);
            foreach (var m in all.Where(m => m != n && edge(n, m)))
            {
                if (state.GetValueOrDefault(m) == 1)
                    return string.Join(" → ", stack.Skip(stack.IndexOf(m)).Append(m));
                if (state.GetValueOrDefault(m) == 0 && Visit(m) is { } c) return c;
            }
            stack.RemoveAt(stack.Count - 1);
            state[n] = 2;
            return null;
        }
        foreach (var n in all)
            if (state.GetValueOrDefault(n) == 0 && Visit(n) is { } c) return c;
        return null;
    }
}
