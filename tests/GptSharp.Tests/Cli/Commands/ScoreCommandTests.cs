using System.Text.Json;
using System.Text.Json.Nodes;

namespace GptSharp.Tests.Cli.Commands;

public class ScoreCommandTests
{
    static readonly string Model = Fixture.Path("gpt2-tiny-hf");

    [Fact]
    public async Task AddsLossAndPerplexityKeepingOtherFields()
    {
        using var tmp = new Fixture.TempDir();
        var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(Model, "expected.json"))).RootElement.GetProperty("cases");
        File.WriteAllLines(tmp["in.jsonl"], expected.EnumerateArray().Select(c =>
            new JsonObject { ["name"] = c.GetProperty("name").GetString(), ["ids"] = JsonNode.Parse(c.GetProperty("input_ids").GetRawText()), ["note"] = "说明" }.ToJsonString()));

        var (code, _, err) = await CliRunner.Run("score", "--model", Model, "--input", tmp["in.jsonl"], "--output", tmp["out.jsonl"]);
        Assert.True(code == 0, err);
        var lines = File.ReadAllLines(tmp["out.jsonl"]).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        Assert.Equal(4, lines.Count);
        foreach (var (line, c) in lines.Zip(expected.EnumerateArray()))
        {
            Assert.Equal(["name", "ids", "note", "loss", "ppl"], line.Select(kv => kv.Key));
            Assert.Equal("说明", line["note"]!.GetValue<string>());
            if (c.GetProperty("loss").ValueKind == JsonValueKind.Null)
            {
                Assert.Null(line["loss"]);
                continue;
            }
            double loss = line["loss"]!.GetValue<double>();
            Assert.InRange(loss - c.GetProperty("loss").GetDouble(), -1e-5, 1e-5);
            Assert.Equal(Math.Exp(loss), line["ppl"]!.GetValue<double>(), 9);
        }
    }

    [Fact]
    public async Task PrecisionInt8ScoresCloseToFloat32AndAnUnknownOneIsRefused()
    {
        using var tmp = new Fixture.TempDir();
        var expected = JsonDocument.Parse(File.ReadAllText(Path.Combine(Model, "expected.json"))).RootElement.GetProperty("cases");
        File.WriteAllLines(tmp["in.jsonl"], expected.EnumerateArray()
            .Where(c => c.GetProperty("loss").ValueKind != JsonValueKind.Null)
            .Select(c => new JsonObject { ["ids"] = JsonNode.Parse(c.GetProperty("input_ids").GetRawText()) }.ToJsonString()));

        double[] Losses(string file) => File.ReadAllLines(file).Select(l => JsonNode.Parse(l)!["loss"]!.GetValue<double>()).ToArray();
        var (code, _, err) = await CliRunner.Run("score", "--model", Model, "--precision", "fp32", "--input", tmp["in.jsonl"], "--output", tmp["fp32.jsonl"]);
        Assert.True(code == 0, err);
        (code, _, err) = await CliRunner.Run("score", "--model", Model, "--precision", "int8", "--input", tmp["in.jsonl"], "--output", tmp["int8.jsonl"]);
        Assert.True(code == 0, err);
        foreach (var (a, b) in Losses(tmp["fp32.jsonl"]).Zip(Losses(tmp["int8.jsonl"])))
        {
            Assert.NotEqual(a, b); // int8 weights really were used
            Assert.InRange(b / a - 1, -0.01, 0.01);
        }

        (code, _, err) = await CliRunner.Run("score", "--model", Model, "--precision", "int3", "--input", tmp["in.jsonl"], "--output", tmp["int3.jsonl"]);
        Assert.Equal(1, code);
        Assert.Contains("unknown precision 'int3' (expected auto, fp32, bf16, int8 or int4)", err);
        Assert.False(File.Exists(tmp["int3.jsonl"]));
    }

    [Theory]
    [InlineData("{\"ids\": [1, 2]}\n{\"ids\": [1, 99999]}\n", "in.jsonl:2", "outside the model's vocabulary")]
    [InlineData("{\"ids\": [1, 2]}\nnot json\n", "in.jsonl:2", "not valid JSON")]
    [InlineData("{\"text\": \"hi\"}\n", "in.jsonl:1", "\"ids\"")]
    [InlineData("{\"ids\": [1, \"a\"]}\n", "in.jsonl:1", "ids[1]")]
    public async Task BadLinesFailWithFileAndLineAndWriteNothing(string content, string where, string what)
    {
        using var tmp = new Fixture.TempDir();
        File.WriteAllText(tmp["in.jsonl"], content);
        var (code, _, err) = await CliRunner.Run("score", "--model", Model, "--input", tmp["in.jsonl"], "--output", tmp["out.jsonl"]);
        Assert.Equal(1, code);
        Assert.Contains(where, err);
        Assert.Contains(what, err);
        Assert.Equal([tmp["in.jsonl"]], Directory.GetFileSystemEntries(tmp.Root));
    }

    [Fact]
    public async Task MissingModelIsAClearError()
    {
        using var tmp = new Fixture.TempDir();
        File.WriteAllText(tmp["in.jsonl"], "{\"ids\": [1, 2]}\n");
        var (code, _, err) = await CliRunner.Run("score", "--model", tmp["nomodel"], "--input", tmp["in.jsonl"], "--output", tmp["out.jsonl"]);
        Assert.Equal(1, code);
        Assert.StartsWith("error:", err);
        Assert.DoesNotContain("   at ", err); // no stack trace
    }
}
