using GptSharp.Tests.Cli;
using GptSharp.Tests.Data;
using GptSharp.Tests.IO;
using GptSharp.Tests.Training;
using GptSharp.Training;

namespace GptSharp.Tests.Cli.Commands;

[Collection(nameof(GlobalTorchRng))]
public class TrainCommandTests(TinyCorpus corpus) : IClassFixture<TinyCorpus>
{
    [Fact]
    public async Task TrainsFromAConfigFileWithOverridesAndLogsPlainLines()
    {
        var options = corpus.Options("cli") with { MaxSteps = 100 };
        string config = corpus.Dir.WriteText("cli.json", options.ToJson());

        var (code, stdout, stderr) = await CliRunner.Run("train", "--config", config, "--set", "max_steps=6", "--set", "logging_steps=3", "eval_steps=3");
        Assert.True(code == 0, stderr);
        Assert.Contains("model: ", stdout);
        Assert.Matches(@"step 3/6 \| loss \d+\.\d{4} \| lr 3\.00e-03 \| \d+ tok/s", stdout);
        Assert.Contains("step 6/6 | loss", stdout);
        Assert.Contains("step 6 | val_loss", stdout);
        Assert.Contains($"saved {Path.Combine(options.OutputDir, "final")}", stdout);
        Assert.Contains("done: 6 steps", stdout);
        Assert.DoesNotContain("step 4/6", stdout); // only logging steps are printed

        // The run recorded its resolved options.
        var run = GptSharp.Training.PretrainingOptions.Load(Path.Combine(options.OutputDir, "run.json"));
        Assert.Equal(6, run.MaxSteps);
    }

    [Fact]
    public async Task BadOptionsFailBeforeAnyWork()
    {
        var (code, _, stderr) = await CliRunner.Run("train", "--set", $"data_dir={corpus.DataDir}", "--set", $"output_dir={corpus.Dir["never"]}",
            "--set", "learning_rate=-1", "--set", "per_device_train_batch_size=0");
        Assert.Equal(1, code);
        Assert.Contains("learning_rate must be in (0, 1]", stderr);
        Assert.Contains("per_device_train_batch_size must be at least 1", stderr);
        Assert.False(Directory.Exists(corpus.Dir["never"]));

        (code, _, stderr) = await CliRunner.Run("train", "--set", "max_stepz=3");
        Assert.Equal(1, code);
        Assert.Contains("did you mean max_steps", stderr);
    }

    [Fact]
    public async Task APreviousRunIsReplacedOnlyWithOverwriteAndNeverWhenItHoldsAnInput()
    {
        string config = corpus.Dir.WriteText("again.json", (corpus.Options("again") with { MaxSteps = 2, WarmupSteps = 0, EvalSteps = 0 }).ToJson());
        var (code, _, stderr) = await CliRunner.Run("train", "--config", config);
        Assert.True(code == 0, stderr);

        (code, var stdout, stderr) = await CliRunner.Run("train", "--config", config);
        Assert.Equal(1, code);
        Assert.Contains("already holds a training run; pass --set resume_from_checkpoint=latest to continue it, or --overwrite", stderr);
        Assert.DoesNotContain("model:", stdout); // refused before any work

        (code, _, stderr) = await CliRunner.Run("train", "--config", config, "--overwrite");
        Assert.True(code == 0, stderr);

        // Starting over would delete final/, which this run starts from: refused, and final/ stays.
        string final = Path.Combine(corpus.Dir["again"], "final");
        string fromFinal = corpus.Dir.WriteText("from-final.json", (corpus.Options("again") with
            { MaxSteps = 2, WarmupSteps = 0, EvalSteps = 0, NLayer = null, NHead = null, NEmbd = null, InitFrom = final }).ToJson());
        (code, _, stderr) = await CliRunner.Run("train", "--config", fromFinal, "--overwrite");
        Assert.Equal(1, code);
        Assert.Contains($"refusing to replace a directory that holds an input of this command ({final})", stderr);
        Assert.True(File.Exists(Path.Combine(final, "model.safetensors")));
    }

    [Fact]
    public async Task AnUnwritableOutputDirFailsBeforeAnyWorkNamingIt()
    {
        string target = Path.Combine(GptSharp.Tests.IO.Unwritable.Directory(corpus.Dir), "run");
        var (code, stdout, stderr) = await CliRunner.Run("train", "--set", $"data_dir={corpus.DataDir}", $"output_dir={target}", "max_steps=2");
        Assert.Equal(1, code);
        Assert.StartsWith($"error: output_dir '{target}': cannot write there", stderr);
        Assert.DoesNotContain("model:", stdout);
    }
}
