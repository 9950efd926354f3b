using System.Text.Json.Nodes;
using GptSharp.Evaluation;

namespace GptSharp.Tests.Evaluation;

public class EvaluationReportTests
{
    [Fact]
    public void SerialisesAsSnakeCaseJsonAndRoundTrips()
    {
        var report = EvaluationReport.FromScores(new TextScores(2, 0.5, 0.75, 0.25), model: "run/final", dataset: "test.jsonl") with
        {
            TokenAccuracy = 0.9,
            Samples = [new EvaluationSample("订单到哪里了？", "已经发货", "已经发货", 1, 1)],
        };
        string json = report.ToJson();
        var obj = JsonNode.Parse(json)!.AsObject();
        Assert.Equal(0.5, obj["exact_match"]!.GetValue<double>());
        Assert.Equal(0.75, obj["f1"]!.GetValue<double>());
        Assert.Equal(0.9, obj["token_accuracy"]!.GetValue<double>());
        Assert.Equal(2, obj["examples"]!.GetValue<int>());
        Assert.Equal("已经发货", obj["samples"]![0]!["prediction"]!.GetValue<string>());
        Assert.False(obj.ContainsKey("loss")); // unset scores are left out
        Assert.Contains("订单到哪里了", json); // CJK kept readable, not \u-escaped

        var back = EvaluationReport.FromJson(json);
        Assert.Equal(report with { Samples = null }, back with { Samples = null });
        Assert.Equal(report.Samples, back.Samples);
    }

    [Fact]
    public void SavesAtomicallyAndLoads()
    {
        string dir = Directory.CreateTempSubdirectory("gptsharp-eval-").FullName;
        try
        {
            string path = Path.Combine(dir, "eval.json");
            new EvaluationReport { Examples = 3, Bleu = 0.5 }.Save(path);
            Assert.Equal(0.5, EvaluationReport.Load(path).Bleu);
            Assert.Single(Directory.GetFiles(dir));
            File.WriteAllText(path, "{ not json");
            var e = Assert.Throws<GptSharpException>(() => EvaluationReport.Load(path));
            Assert.Contains(path, e.Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
