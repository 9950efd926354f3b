using System.Text.Json.Nodes;
using GptSharp.Evaluation;

namespace GptSharp.Tests.Evaluation;

public class ComparisonReportTests
{
    static ModelFigures Figures(string label, double loss, double? f1, double speed) => new()
    {
        Label = label, Model = label, Precision = "fp32", WeightFile = "model.safetensors", Parameters = 1000, WeightBytes = 4000,
        Loss = loss, Perplexity = Math.Exp(loss), F1 = f1, DecodeTokensPerSecond = speed, Batch8TokensPerSecond = 4 * speed,
        TimeToFirstTokenSeconds = 0.01,
    };

    [Fact]
    public void EveryFigureIsAlsoARatioToTheFirstModel()
    {
        var report = ComparisonReport.Create("d.jsonl", new ModelComparisonOptions(),
            [Figures("teacher", 2.0, 0.5, 100), Figures("student", 3.0, 0.25, 250)]);
        var first = report.Models[0].Ratios!;
        var second = report.Models[1].Ratios!;
        Assert.Equal(ComparisonFigure.All.Select(f => f.Key).Order(), first.Keys.Order());
        Assert.All(first.Where(r => r.Value is not null), r => Assert.Equal(1.0, r.Value));
        Assert.Equal(1.5, second["loss"]!.Value, 12);
        Assert.Equal(0.5, second["f1"]!.Value, 12);
        Assert.Equal(2.5, second["decode_tokens_per_second"]!.Value, 12);
        Assert.Equal(Math.Exp(1), second["perplexity"]!.Value, 12);
        // Missing on either side (peak RSS never measured, BLEU not scored): no ratio rather than a made-up one.
        Assert.Null(second["peak_rss_bytes"]);
        Assert.Null(second["bleu"]);
    }

    [Fact]
    public void AZeroReferenceHasNoRatio()
    {
        var report = ComparisonReport.Create("d.jsonl", new ModelComparisonOptions(), [Figures("a", 1, 0, 10), Figures("b", 1, 0.5, 10)]);
        Assert.Null(report.Models[1].Ratios!["f1"]);
        Assert.Null(report.Models[0].Ratios!["f1"]);
    }

    [Fact]
    public void WritesSnakeCaseJsonAtomically()
    {
        using var tmp = new Fixture.TempDir();
        var report = ComparisonReport.Create("d.jsonl", new ModelComparisonOptions { DecodeTokens = 16 }, [Figures("a", 1, 0.5, 10)]);
        report.Save(tmp["r.json"]);
        var json = JsonNode.Parse(File.ReadAllText(tmp["r.json"]))!;
        Assert.Equal("d.jsonl", (string?)json["dataset"]);
        Assert.Equal(16, (int)json["options"]!["decode_tokens"]!);
        var model = json["models"]![0]!;
        Assert.Equal(10.0, (double)model["decode_tokens_per_second"]!);
        Assert.Equal(1.0, (double)model["ratios"]!["weight_bytes"]!);
        Assert.Null(model["bleu"]); // absent, not 0
        Assert.Equal([tmp["r.json"]], Directory.GetFiles(tmp.Root));
    }

    [Fact]
    public void NeedsAModel() =>
        Assert.Throws<GptSharpException>(() => ComparisonReport.Create("d.jsonl", new ModelComparisonOptions(), []));
}
