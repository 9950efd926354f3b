using System.Text.RegularExpressions;
using GptSharp.Tests.Cli.Commands;
using GptSharp.Tests.Training;
using GptSharp.Cli.Commands;

namespace GptSharp.Tests.Cli;

/// <summary>
/// Every shell command in README.md's ```bash blocks runs as written. The `gptsharp` lines run the built tool as a child
/// process in a temporary directory holding what they expect (corpus.txt, samples/configs/ as in the repository), since their
/// relative paths need a current directory of their own. Overridden, only by appending what a user may add:
/// <c>train</c> gets <c>--set max_steps=3 per_device_train_batch_size=2 block_size=64 eval_iters=1</c> (the config's 2,000
/// steps of 8×256 tokens would take an hour here), and <c>tune --config</c> gets <c>--n-trials 2 --workers 1 --set max_steps=4
/// eval_steps=2</c> on a tiny model standing in for quickstart's. Not run: <c>dotnet test</c> (this suite) and <c>dotnet run … -- quickstart</c>
/// (QuickstartCommandTests runs it with tiny sizes; here its arguments must parse), and <c>serve</c> with the <c>curl</c> request to it
/// (parsed here; Server/ReadmeServingTests sends the request to a served model).
/// </summary>
[Collection(nameof(GptSharp.Tests.Training.GlobalTorchRng))]
public class ReadmeCommandsTests
{
    internal static readonly string RepoRoot = FindRepoRoot();

    static string FindRepoRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "GptSharp.sln")) && File.Exists(Path.Combine(d.FullName, "README.md"))) return d.FullName;
        throw new InvalidOperationException("README.md not found above " + AppContext.BaseDirectory);
    }

    /// <summary>The commands of README.md's ```bash blocks, split into words as a shell would (double quotes only).</summary>
    static List<string[]> ReadmeCommands()
    {
        string readme = File.ReadAllText(Path.Combine(RepoRoot, "README.md"));
        return [.. Regex.Matches(readme, @"```bash\n(.*?)```", RegexOptions.Singleline)
            .SelectMany(m => m.Groups[1].Value.Split('\n'))
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => Regex.Matches(l, "\"([^\"]*)\"|(\\S+)").Select(w => w.Groups[1].Success ? w.Groups[1].Value : w.Groups[2].Value).ToArray())];
    }

    [Fact]
    public async Task EveryBashCommandRunsAsWritten()
    {
        var commands = ReadmeCommands();
        using var tmp = new Fixture.TempDir();
        Directory.CreateDirectory(tmp["samples"]);
        CopyDirectory(Path.Combine(RepoRoot, "samples", "configs"), Path.Combine(tmp["samples"], "configs"));
        // A small corpus: the start of the bundled support conversations (whole documents, blank-line separated).
        string support = File.ReadAllText(Path.Combine(RepoRoot, "samples", "text", "support.txt"));
        File.WriteAllText(tmp["corpus.txt"], support[..support.IndexOf("\n\n", 20_000, StringComparison.Ordinal)]);
        // What the tuning example starts from: quickstart's pretrained model (a tiny one here) and the bundled dialogues.
        using (var models = new Fixture.TempDir())
            CopyDirectory(FinetuneEvalCommandTests.TinyModel(models), tmp["quickstart-run/model/final"]);
        CopyDirectory(Path.Combine(RepoRoot, "samples", "dialogues"), Path.Combine(tmp["samples"], "dialogues"));

        int ran = 0, parsedOnly = 0;
        foreach (var words in commands)
        {
            string line = string.Join(' ', words);
            if (words is ["dotnet", "test", ..]) continue; // this suite
            if (words is ["dotnet", "run", "-c", "Release", "--project", "src/GptSharp.Cli", "--", .. var runArgs])
            {
                var parse = CliApp.Build().Parse(runArgs);
                Assert.True(parse.Errors.Count == 0, $"{line}: {string.Join("; ", parse.Errors.Select(e => e.Message))}");
                Assert.Equal("quickstart", parse.CommandResult.Command.Name); // run by QuickstartCommandTests
                parsedOnly++;
                continue;
            }
            // `serve` runs until stopped: its arguments must parse here; the request to it runs in Server/ReadmeServingTests.
            if (words is ["gptsharp", "serve", .. var serveArgs])
            {
                var parse = CliApp.Build().Parse(["serve", .. serveArgs]);
                Assert.True(parse.Errors.Count == 0, $"{line}: {string.Join("; ", parse.Errors.Select(e => e.Message))}");
                parsedOnly++;
                continue;
            }
            if (words[0] == "curl") continue; // a request to that server: Server/ReadmeServingTests sends it
            Assert.True(words[0] == "gptsharp", $"README command not covered by this test: {line}");
            string[] args = words[1..];
            if (args[0] == "train") args = [.. args, "--set", "max_steps=3", "per_device_train_batch_size=2", "block_size=64", "eval_iters=1"];
            if (args is ["tune", "--config", ..]) args = [.. args, "--n-trials", "2", "--workers", "1", "--set", "max_steps=4", "eval_steps=2"];
            var (code, output, err) = await CliProcess.Run(tmp.Root, args);
            Assert.True(code == 0, $"`{line}` failed ({code}):\n{err}\n{output}");
            if (args[0] == "generate") Assert.StartsWith("Once upon a time", output);
            ran++;
        }
        Assert.Equal(9, ran); // the "full pretraining run by hand", then tune, tune report, tune ask and tune tell, and export to GGUF
        Assert.Equal(2, parsedOnly); // quickstart and serve
        foreach (var f in new[] { "tok/vocab.json", "data/meta.json", "runs/tiny/final/model.safetensors", "runs/tiny/final/vocab.json",
                                  "runs/tune-quickstart/trials.csv", "runs/tune-quickstart/report/optimization_history.png", "s.db", "model-q8_0.gguf" })
            Assert.True(File.Exists(tmp[f]), f);
    }

    static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from)) File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
    }
}
