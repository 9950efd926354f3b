using GptSharp.Cli.Report;
using GptSharp.Tests.Cli.Report;
using GptSharp.Tuning;
using GptSharp.Tuning.Samplers;
using GptSharp.Tuning.Storages;

namespace GptSharp.Tests.Cli.Commands;

public class TuneReportCommandTests
{
    /// <summary>A SQLite study file holding "sweep" (the made-up study of the plot tests) and an empty "baseline".</summary>
    static string StudyFile(Fixture.TempDir tmp)
    {
        string url = "sqlite:///" + tmp["study.db"];
        using var storage = TrialStorages.Open(url);
        TuningPlotsTests.MadeUpStudy(storage, "sweep");
        Study.Create("baseline", storage, new RandomSampler(1));
        return url;
    }

    [Fact]
    public async Task WritesTheTrialsTableAndEveryPlot()
    {
        using var tmp = new Fixture.TempDir();
        string url = StudyFile(tmp), dir = tmp["report"];
        var (code, output, err) = await CliRunner.Run("tune", "report", "--storage", url, "--study", "sweep", "--output", dir);
        Assert.True(code == 0, err);

        var rows = File.ReadAllLines(Path.Combine(dir, "trials.csv"));
        Assert.StartsWith("number,state,value,duration_s,last_step,", rows[0]);
        Assert.Equal(14, rows.Length - 1); // 12 optimized, 1 failed, 1 running
        Assert.Contains(rows, r => r.Split(',')[1] == "pruned");
        Assert.Contains(rows, r => r.Split(',')[1] == "complete");
        Assert.True(File.Exists(Path.Combine(dir, "trials.json")));

        string[] pngs = [TuningPlots.HistoryFile, TuningPlots.IntermediateFile, TuningPlots.ImportanceFile,
            "slice_dropout.png", "slice_layers.png", "slice_lr.png", "slice_optimizer.png"];
        foreach (string png in pngs)
        {
            string path = Path.Combine(dir, png);
            Assert.True(File.Exists(path), $"{png} missing");
            Assert.Contains($"plot → {path}", output);
        }
        Assert.Equal(pngs.Order(), Directory.GetFiles(dir, "*.png").Select(Path.GetFileName).Order());
    }

    [Fact]
    public async Task AnUnknownStudyIsAClearErrorNamingTheStudiesThereAre()
    {
        using var tmp = new Fixture.TempDir();
        string url = StudyFile(tmp), dir = tmp["report"];
        var (code, _, err) = await CliRunner.Run("tune", "report", "--storage", url, "--study", "no-such-thing", "--output", dir);
        Assert.Equal(1, code);
        Assert.Contains("no study named \"no-such-thing\"", err);
        Assert.Contains("sweep", err);
        Assert.Contains("baseline", err);
        Assert.False(Directory.Exists(dir)); // nothing written
    }
}
