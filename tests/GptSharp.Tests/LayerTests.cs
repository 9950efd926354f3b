using System.Reflection;
using Mono.Cecil;
using NetArchTest.Rules;
using GptSharp.Cli.Commands;

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
        ["Inference"] = ["Models", "Tokenization", "IO", "Native"],
        ["Checkpoints"] = ["Inference", "Models", "Tokenization", "IO", "Native"],
        // 5
        ["Chat"] = ["Checkpoints", "Inference", "Models", "Tokenization", "IO", "Native"],
        ["Evaluation"] = ["Checkpoints", "Inference", "Data", "Models", "Tokenization", "IO", "Native"],
        ["Compression"] = ["Checkpoints", "Models", "IO", "Native"],
        ["Training"] = ["Evaluation", "Checkpoints", "Inference", "Data", "Models", "Tokenization", "IO", "Native"],
        // 6
        ["Tuning"] = ["Training", "Evaluation", "Checkpoints", "Inference", "Data", "Models", "Tokenization", "IO", "Native"],
        ["Distillation"] = ["Training", "Checkpoints", "Inference", "Data", "Models", "Tokenization", "IO", "Native"],
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
        var cli = typeof(GptSharp.Cli.Commands.CliApp).Assembly;
        string[] folders = ["Chat", "Progress", "Report", "Commands"];
        bool CliUses(string from, string to) => !Types.InAssembly(cli).That().ResideInNamespace($"GptSharp.Cli.{from}")
            .Should().NotHaveDependencyOn($"GptSharp.Cli.{to}").GetResult().IsSuccessful;
        // The commands are the top: the REPL, progress views and report drawing never reach back into them.
        Assert.All(folders[..^1], f => Assert.False(CliUses(f, "Commands"), $"Cli.{f} uses Cli.Commands"));
        Assert.Null(FindCycle(folders, CliUses));
    }

    /// <summary>
    /// The server's folders, bottom-up: wire shapes and options know nothing else; requests are checked with errors and
    /// options; models are hosted with their schedulers; generation reads schedulers; routes sit on top. The root
    /// (<c>GptServer</c>) wires them together.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string[]> ServerAllowed = new Dictionary<string, string[]>
    {
        ["Options"] = [],
        ["Responses"] = [],
        ["Scheduling"] = [],
        ["Errors"] = ["Responses", "Scheduling"],
        ["Requests"] = ["Errors", "Options"],
        ["Security"] = ["Errors", "Options"],
        ["Hosting"] = ["Errors", "Options", "Scheduling"],
        ["Metrics"] = ["Hosting", "Scheduling"],
        ["Generation"] = ["Hosting", "Metrics", "Scheduling"],
        ["Routes"] = ["Errors", "Generation", "Hosting", "Metrics", "Options", "Requests", "Responses"],
    };

    static readonly Assembly Server = typeof(GptSharp.Server.GptServer).Assembly;

    [Fact]
    public void TheServerFoldersAreLayeredToo()
    {
        var folders = Server.GetTypes().Select(t => t.Namespace ?? "").Where(n => n.StartsWith("GptSharp.Server.", StringComparison.Ordinal))
            .Select(n => n.Split('.')[2]).Distinct().ToArray();
        Assert.All(folders, f => Assert.True(ServerAllowed.ContainsKey(f), $"Server.{f} has no layer in LayerTests.ServerAllowed"));
        var failures = new List<string>();
        foreach (var (folder, allowed) in ServerAllowed)
        {
            var forbidden = ServerAllowed.Keys.Where(k => k != folder && !allowed.Contains(k)).Select(k => $"GptSharp.Server.{k}").Append("GptSharp.Server.GptServer").ToArray();
            var result = Types.InAssembly(Server).That().ResideInNamespace($"GptSharp.Server.{folder}").Should().NotHaveDependencyOnAny(forbidden).GetResult();
            if (!result.IsSuccessful) failures.Add($"Server.{folder}: {string.Join(", ", result.FailingTypeNames ?? [])}");
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Null(FindCycle(ServerAllowed.Keys, (a, b) => ServerAllowed[a].Contains(b)));
    }

    [Fact]
    public void TheLibraryKnowsNothingOfTheShells()
    {
        // The library does the work; the server and the CLI are shells over it, never the other way round.
        Assert.DoesNotContain(Library.GetReferencedAssemblies(), a => a.Name!.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal)
                                                                       || a.Name is "GptSharp.Server" or "GptSharp.Cli" or "Prometheus.NetStandard");
        Assert.DoesNotContain(Server.GetReferencedAssemblies(), a => a.Name is "GptSharp.Cli" or "System.CommandLine" or "Spectre.Console" or "ScottPlot");
    }

    /// <summary>
    /// Finer than the folder table: no two namespaces at any depth (Training and Training.Runs, Models and
    /// Models.Quantized, …) use each other, counting every type reference the compiler emitted — base types,
    /// signatures, locals and the operands of method bodies, lambdas and async state machines included.
    /// </summary>
    [Theory]
    [InlineData("GptSharp.dll")]
    [InlineData("GptSharp.Cli.dll")]
    [InlineData("GptSharp.Server.dll")]
    public void NoNamespacesAtAnyDepthUseEachOther(string assembly)
    {
        var graph = NamespaceGraph(Path.Combine(AppContext.BaseDirectory, assembly));
        Assert.True(graph.Count >= 4, $"only {graph.Count} namespaces read from {assembly}");
        string? cycle = FindCycle(graph.Keys, (a, b) => graph[a].Contains(b));
        Assert.True(cycle is null, $"{assembly}: namespaces that use each other: {cycle}");
    }

    /// <summary>Namespace → the GptSharp namespaces its types reference (read from the IL with Mono.Cecil).</summary>
    static Dictionary<string, HashSet<string>> NamespaceGraph(string path)
    {
        using var module = ModuleDefinition.ReadModule(path);
        var edges = new Dictionary<string, HashSet<string>>();
        static string Outer(TypeReference t)
        {
            while (t.DeclaringType is not null) t = t.DeclaringType;
            return t.Namespace;
        }
        void Add(string from, TypeReference? to)
        {
            while (to is TypeSpecification spec)
            {
                if (spec is GenericInstanceType g) foreach (var a in g.GenericArguments) Add(from, a);
                to = spec.ElementType;
            }
            if (to is null || to is GenericParameter) return;
            string ns = Outer(to);
            if (ns != from && (ns == "GptSharp" || ns.StartsWith("GptSharp.", StringComparison.Ordinal))) edges[from].Add(ns);
        }
        foreach (var type in module.GetTypes())
        {
            string from = Outer(type);
            if (from != "GptSharp" && !from.StartsWith("GptSharp.", StringComparison.Ordinal)) continue;
            edges.TryAdd(from, []);
            Add(from, type.BaseType);
            foreach (var i in type.Interfaces) Add(from, i.InterfaceType);
            foreach (var f in type.Fields) Add(from, f.FieldType);
            foreach (var p in type.Properties) Add(from, p.PropertyType);
            foreach (var m in type.Methods)
            {
                Add(from, m.ReturnType);
                foreach (var p in m.Parameters) Add(from, p.ParameterType);
                if (!m.HasBody) continue;
                foreach (var v in m.Body.Variables) Add(from, v.VariableType);
                foreach (var ins in m.Body.Instructions)
                    switch (ins.Operand)
                    {
                        case TypeReference t: Add(from, t); break;
                        case MethodReference r: Add(from, r.DeclaringType); Add(from, r.ReturnType); break;
                        case FieldReference r: Add(from, r.DeclaringType); Add(from, r.FieldType); break;
                    }
            }
        }
        return edges;
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
