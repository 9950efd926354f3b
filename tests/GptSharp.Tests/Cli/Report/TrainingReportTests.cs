using System.Globalization;
using GptSharp.Tests.Cli;
using GptSharp.Cli.Report;
using GptSharp.Training;

namespace GptSharp.Tests.Cli.Report;

public class TrainingReportTests
{
    /// <summary>A run directory with a metrics.jsonl like the Trainer writes: 10 training lines, 3 evaluations.</summary>
    static string FakeRun()
    {
        string dir = Directory.CreateTempSubdirectory("gptsharp-report-").FullName;
        var lines = new List<string>();
        for (int step = 10; step <= 100; step += 10)
        {
            string loss = (5.0 - step / 40.0).ToString(CultureInfo.InvariantCulture);
            string lr = (step <= 20 ? 3e-4 * step / 20 : 3e-4 * (100 - step) / 80 + 3e-5).ToString("R", CultureInfo.InvariantCulture);
            lines.Add($"{{\"step\":{step},\"loss\":{loss},\"lr\":{lr},\"grad_norm\":1.5,\"tokens_per_sec\":{1000 + step},\"elapsed\":{step / 10.0}}}");
            if (step % 40 == 0 || step == 100)
            {
                double val = step == 80 ? 2.5 : 3.0; // best at step 80
                lines.Add($"{{\"step\":{step},\"val_loss\":{val},\"val_ppl\":{Math.Exp(val).ToString("R", CultureInfo.InvariantCulture)},\"elapsed\":{step / 10.0 + 0.5}}}");
            }
        }
        File.WriteAllText(Path.Combine(dir, "metrics.jsonl"), string.Join("\n", lines) + "\n");
        return dir;
    }

    [Fact]
    public void SummaryHasBestAndFinalFigures()
    {
        string dir = FakeRun();
        try
        {
            var h = TrainingHistory.Read(Path.Combine(dir, "metrics.jsonl"));
            Assert.Equal(10, h.Train.Count);
            Assert.Equal([40, 80, 100], h.Eval.Select(e => e.Step));
            var s = TrainingSummary.From(h);
            Assert.Equal(80, s.BestStep);
            Assert.Equal(2.5, s.BestValLoss);
            Assert.Equal(100, s.FinalStep);
            Assert.Equal(2.5, s.FinalLoss!.Value, 12);
            Assert.Equal(3.0, s.FinalValLoss);
            Assert.Equal(1055, s.MeanTokensPerSecond!.Value, 9); // mean of 1010..1100
            Assert.Equal(TimeSpan.FromSeconds(10.5), s.TotalTime);
            string text = s.Format();
            Assert.Contains("best step       80", text);
            Assert.Contains("best val loss   2.5000 (ppl 12.18)", text);
            Assert.Contains("total time      0:10.5", text);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void RendersLossAndLearningRatePngs()
    {
        string dir = FakeRun();
        try
        {
            var files = TrainingPlots.Render(TrainingHistory.Read(Path.Combine(dir, "metrics.jsonl")), dir);
            Assert.Equal([Path.Combine(dir, "loss.png"), Path.Combine(dir, "lr.png")], files);
            foreach (string f in files)
            {
                byte[] png = File.ReadAllBytes(f);
                Assert.True(png.Length > 1000, $"{f}: only {png.Length} bytes");
                Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
                // IHDR: big-endian width and height at bytes 16..23.
                Assert.Equal(TrainingPlots.Width, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)));
                Assert.Equal(TrainingPlots.Height, System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20)));
            }
            Assert.Empty(Directory.GetFiles(dir, "*.tmp-*")); // atomic writes leave no temporary files
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void ARampedBatchGetsItsOwnChartAndSummaryRow()
    {
        string dir = Directory.CreateTempSubdirectory("gptsharp-report-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "metrics.jsonl"), string.Concat(Enumerable.Range(1, 20).Select(step =>
                $"{{\"step\":{step},\"loss\":{3 - step / 10.0},\"lr\":0.001,\"batch_size\":{Math.Min(64, 8 * (1 + step / 3))},\"tokens_per_sec\":100}}\n")));
            var history = TrainingHistory.Read(Path.Combine(dir, "metrics.jsonl"));
            Assert.True(history.BatchSizeVaries);
            var files = TrainingPlots.Render(history, dir);
            Assert.Equal(Path.Combine(dir, TrainingPlots.BatchSizeFile), files[^1]);
            Assert.True(new FileInfo(files[^1]).Length > 1000);
            Assert.Contains("batch size      8 → 56 (batch_size_schedule)", TrainingSummary.From(history).Format());
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Theory]
    [InlineData("{\"step\":20,\"loss\":", "not valid JSON")]
    [InlineData("{\"step\":20,\"loss\":\"high\"}", "\"loss\" should be a number")]
    [InlineData("{\"loss\":1.0}", "\"step\"")]
    [InlineData("[1,2]", "expected a JSON object")]
    public void BadLineIsReportedWithFileAndLine(string badLine, string expected)
    {
        string dir = FakeRun();
        try
        {
            string path = Path.Combine(dir, "metrics.jsonl");
            var lines = File.ReadAllLines(path).ToList();
            lines.Insert(2, badLine);
            File.WriteAllLines(path, lines);
            var e = Assert.Throws<GptSharpException>(() => TrainingHistory.Read(path));
            Assert.Contains($"{path}:3:", e.Message);
            Assert.Contains(expected, e.Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public async Task ATornLastLineIsSkippedWithANote()
    {
        string dir = FakeRun();
        try
        {
            string path = Path.Combine(dir, "metrics.jsonl");
            File.AppendAllText(path, "{\"step\":110,\"loss\":2.2,\"lr\":"); // a run killed mid-write leaves no newline
            var h = TrainingHistory.Read(path);
            Assert.Equal(10, h.Train.Count);
            Assert.Equal($"{path}:14", h.TornLastLine);

            var (code, output, err) = await CliRunner.Run("report", dir, "--no-plots");
            Assert.True(code == 0, err);
            Assert.Contains($"note: {path}:14: skipped an incomplete last line", output);
            Assert.Contains("final step      100", output);

            // Once something follows it, it is no longer the last line: an error naming file:line.
            File.AppendAllText(path, "\n{\"step\":120,\"loss\":2.0}\n");
            var e = Assert.Throws<GptSharpException>(() => TrainingHistory.Read(path));
            Assert.Contains($"{path}:14: not valid JSON", e.Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public async Task ReportCommandPrintsSummaryAndRedrawsCharts()
    {
        string dir = FakeRun();
        try
        {
            var (code, output, err) = await CliRunner.Run("report", dir);
            Assert.True(code == 0, err);
            Assert.Contains("best val loss", output);
            Assert.Contains("final loss      2.5000", output);
            Assert.True(File.Exists(Path.Combine(dir, "loss.png")));
            Assert.True(File.Exists(Path.Combine(dir, "lr.png")));

            File.AppendAllText(Path.Combine(dir, "metrics.jsonl"), "oops\n");
            (code, _, err) = await CliRunner.Run("report", dir);
            Assert.Equal(1, code);
            Assert.Contains("metrics.jsonl:14:", err);

            (code, _, err) = await CliRunner.Run("report", Path.Combine(dir, "missing"));
            Assert.Equal(1, code);
            Assert.Contains("no such run directory", err);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
