using GptSharp.Tests.Data;
using GptSharp.Tests.Training;

namespace GptSharp.Tests.Cli;

/// <summary>
/// Real signals to the real `gptsharp train`, on both allocator paths (tcmalloc preloaded when installed, else and with
/// GPTSHARP_ALLOCATOR=glibc glibc's tunables): the allocator restart happens in place, so the process that was started
/// is the one that trains, saves on SIGINT/SIGTERM and dies on SIGKILL, and no other process is ever left behind.
/// </summary>
public class SignalTests(TinyCorpus corpus) : IClassFixture<TinyCorpus>
{
    const int SigInt = 2, SigKill = 9, SigTerm = 15;
    static readonly TimeSpan Timeout = TimeSpan.FromSeconds(90);

    public static TheoryData<string, int> Cases => new()
    {
        { "default", SigInt }, { "default", SigTerm }, { "default", SigKill },
        { "glibc", SigInt }, { "glibc", SigTerm }, { "glibc", SigKill },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void TrainStopsCleanlyOnASignal(string allocator, int signal)
    {
        string name = $"signal-{allocator}-{signal}";
        // The config's path is in the command line of every process of this run: how the test finds them all.
        string config = corpus.Dir.WriteText($"{name}.json", (corpus.Options(name) with { MaxSteps = 100_000, EvalSteps = 0 }).ToJson());
        var env = new Dictionary<string, string?>
        {
            ["GPTSHARP_ALLOCATOR"] = allocator == "default" ? null : allocator,
            ["GPTSHARP_RELAUNCHED"] = null, ["LD_PRELOAD"] = null, ["GLIBC_TUNABLES"] = null,
        };
        using var cli = new CliProcess(env, "train", "--config", config);
        Assert.True(cli.WaitForOutput("step 2/", Timeout), $"no training progress\n{cli.Out}\n{cli.Err}");

        // Restarted in place: the same process, now with the allocator in its environment, and no second one.
        bool tcmalloc = new[] { "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib" }
            .Any(d => File.Exists(Path.Combine(d, "libtcmalloc_minimal.so.4")));
        string expected = allocator == "default" && tcmalloc ? "tcmalloc" : "glibc";
        Assert.Equal([cli.Pid], CliProcess.ProcessesMentioning(config));
        Assert.Contains($"GPTSHARP_RELAUNCHED={expected}", cli.Environment());

        cli.Signal(signal);
        int? code = cli.WaitForExit(Timeout);
        Assert.True(code is not null, $"still running after signal {signal}\n{cli.Out}\n{cli.Err}");
        if (signal == SigKill) Assert.Equal(128 + SigKill, code);
        else
        {
            Assert.True(code == 130, $"exit code {code}\n{cli.Out}\n{cli.Err}");
            var saved = System.Text.RegularExpressions.Regex.Match(cli.Out, @"stopped at step \d+; saved (\S+)\.");
            Assert.True(saved.Success, cli.Out);
            Assert.True(Directory.Exists(saved.Groups[1].Value), saved.Groups[1].Value);
        }
        Assert.Empty(CliProcess.ProcessesMentioning(config));
    }
}
