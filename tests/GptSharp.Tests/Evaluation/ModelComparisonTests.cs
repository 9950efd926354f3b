using GptSharp.Checkpoints;
using GptSharp.Evaluation;
using GptSharp.Models;

namespace GptSharp.Tests.Evaluation;

public class ModelComparisonTests
{
    static readonly ModelComparisonOptions Quick = new() { MaxNewTokens = 4, DecodeTokens = 6, PromptTokens = 12, Repetitions = 1 };

    [Fact]
    public void MeasuresAModelOnDialoguesWithTheEvaluatorsFigures()
    {
        using var tmp = new Fixture.TempDir();
        string dir = ComparisonModels.Create(tmp["m"]);
        File.WriteAllText(tmp["d.jsonl"], ComparisonModels.Dialogues);
        var data = ComparisonData.Load(tmp["d.jsonl"], Quick);
        var figures = ModelComparison.Measure(new ComparedModel(dir, InferencePrecision.Auto) { Label = "tiny" }, data, Quick);

        // The same figures `eval` reports for the same model and data.
        using var loaded = ModelDirectory.Load(dir);
        var expected = new DialogueEvaluator(loaded.Model, loaded.Tokenizer) { MaxNewTokens = 4, SampleCount = 0, EndTokenIds = loaded.EndTokenIds }
            .Evaluate(data.Conversations!, data.Path);
        Assert.Equal(expected.Loss!.Value, figures.Loss!.Value, 5);
        Assert.Equal(expected.F1, figures.F1);
        Assert.Equal(expected.Bleu, figures.Bleu);
        Assert.Equal(expected.ExactMatch, figures.ExactMatch);
        Assert.Equal(Math.Exp(figures.Loss.Value), figures.Perplexity!.Value, 9);
        Assert.Equal(3, figures.Examples);

        Assert.Equal("tiny", figures.Label);
        Assert.Equal("fp32", figures.Precision);
        Assert.Equal(loaded.Model.ParameterCount, figures.Parameters);
        Assert.Equal("model.safetensors", figures.WeightFile);
        Assert.Equal(new FileInfo(Path.Combine(dir, "model.safetensors")).Length, figures.WeightBytes);
        Assert.Null(figures.PeakRssBytes); // only a process of its own gives it
        Assert.True(figures.DecodeTokensPerSecond > 0 && figures.Batch8TokensPerSecond > 0 && figures.TimeToFirstTokenSeconds > 0);
        Assert.Equal(6, figures.DecodeTokens);
        Assert.Equal(12, figures.PromptTokens);
    }

    [Fact]
    public void PlainTextHasLossButNoReplyScores()
    {
        using var tmp = new Fixture.TempDir();
        string dir = ComparisonModels.Create(tmp["m"]);
        File.WriteAllText(tmp["t.txt"], "Where is order 123? Order 123 has shipped. Can I return my mug? Yes, within 30 days.");
        var options = Quick with { Text = true };
        var figures = ModelComparison.Measure(new ComparedModel(dir, InferencePrecision.Auto), ComparisonData.Load(tmp["t.txt"], options), options);
        using var loaded = ModelDirectory.Load(dir);
        var expected = new TextEvaluator(loaded.Model, loaded.Tokenizer).Evaluate(File.ReadAllText(tmp["t.txt"]));
        Assert.Equal(expected.Loss!.Value, figures.Loss!.Value, 5);
        Assert.Null(figures.F1);
        Assert.Null(figures.ExactMatch);
        Assert.Null(figures.Bleu);
    }

    [Fact]
    public void AQuantizedDirectoryIsInt8ByItselfAndAFloatOneOnRequest()
    {
        using var tmp = new Fixture.TempDir();
        string dir = ComparisonModels.Create(tmp["m"]);
        string q = ComparisonModels.Quantized(dir, tmp["q"]);
        File.WriteAllText(tmp["d.jsonl"], ComparisonModels.Dialogues);
        var data = ComparisonData.Load(tmp["d.jsonl"], Quick with { Limit = 1 });
        var quantized = ModelComparison.Measure(ComparedModel.Parse(q), data, Quick);
        var asked = ModelComparison.Measure(ComparedModel.Parse(dir + "@int8"), data, Quick);
        Assert.Equal(("int8", "model.int8.safetensors"), (quantized.Precision, quantized.WeightFile));
        Assert.True(quantized.WeightBytes < new FileInfo(Path.Combine(dir, "model.safetensors")).Length);
        // Int8 from float weights: the file on disk is still the float one.
        Assert.Equal(("int8", "model.safetensors"), (asked.Precision, asked.WeightFile));
        Assert.Equal(1, asked.Examples);
    }

    [Fact]
    public void AnEngineAskedForIsTheOneThatDecodes()
    {
        using var tmp = new Fixture.TempDir();
        string dir = ComparisonModels.Create(tmp["m"]);
        File.WriteAllText(tmp["d.jsonl"], ComparisonModels.Dialogues);
        var data = ComparisonData.Load(tmp["d.jsonl"], Quick with { Limit = 1 });
        var torch = ModelComparison.Measure(ComparedModel.Parse(dir + "@torch-fp32"), data, Quick);
        var onnx = ModelComparison.Measure(ComparedModel.Parse(dir + "@onnx-fp32"), data, Quick);
        Assert.Equal(("torch", "onnxruntime"), (torch.Engine, onnx.Engine));
        Assert.Equal(("fp32", "fp32"), (torch.Precision, onnx.Precision));
        // The same weights on either engine: the same loss (the onnx engine keeps TorchSharp's forward pass for losses)
        // and the same greedy replies (its logits are TorchSharp's within 1e-4).
        Assert.Equal(torch.Loss!.Value, onnx.Loss!.Value, 1e-6);
        Assert.Equal(torch.F1, onnx.F1);
    }

    [Fact]
    public void ModelsMustShareTheFirstModelsTokenizer()
    {
        using var tmp = new Fixture.TempDir();
        string a = ComparisonModels.Create(tmp["a"]);
        string deeper = ComparisonModels.Create(tmp["deeper"], layers: 2);
        string other = ComparisonModels.Create(tmp["other"], corpus: "A completely different corpus gives different merges entirely.");
        ModelComparison.CheckComparable([ComparedModel.Parse(a), ComparedModel.Parse(deeper), ComparedModel.Parse(a + "@int8")]);
        var e = Assert.Throws<GptSharpException>(() => ModelComparison.CheckComparable([ComparedModel.Parse(a), ComparedModel.Parse(other)]));
        Assert.Contains($"--model {other}: its tokenizer is not {a}'s", e.Message);
    }

    [Fact]
    public void AMissingDirectoryOrWeightFileIsNamed()
    {
        using var tmp = new Fixture.TempDir();
        string a = ComparisonModels.Create(tmp["a"]);
        var e = Assert.Throws<GptSharpException>(() => ModelComparison.CheckComparable([ComparedModel.Parse(a), ComparedModel.Parse(tmp["nope"])]));
        Assert.Contains($"--model {tmp["nope"]}: directory '{tmp["nope"]}' not found", e.Message);
        File.Delete(Path.Combine(a, "model.safetensors"));
        e = Assert.Throws<GptSharpException>(() => ModelComparison.CheckComparable([ComparedModel.Parse(a)]));
        Assert.Contains("model.safetensors: file not found", e.Message);
        Assert.Throws<GptSharpException>(() => ModelComparison.CheckComparable([]));
    }

    [Theory]
    [InlineData("""{"input": "hi", "output": "hello"}""" + "\n{not json", ":2")]
    [InlineData("", ":1: empt")]
    public void BadDialoguesAreNamedWithTheirLine(string content, string message)
    {
        using var tmp = new Fixture.TempDir();
        File.WriteAllText(tmp["d.jsonl"], content);
        var e = Assert.Throws<GptSharpException>(() => ComparisonData.Load(tmp["d.jsonl"], Quick));
        Assert.Contains(tmp["d.jsonl"], e.Message);
        Assert.Contains(message, e.Message);
    }

    [Theory]
    [InlineData(0, 1, 1, "--decode-tokens")]
    [InlineData(1, 0, 1, "--max-new-tokens")]
    [InlineData(1, 1, 0, "--repetitions")]
    public void OptionsThatCannotWorkAreRejected(int decode, int maxNew, int reps, string option)
    {
        var e = Assert.Throws<GptSharpException>(() => new ModelComparisonOptions { DecodeTokens = decode, MaxNewTokens = maxNew, Repetitions = reps }.Validate());
        Assert.Contains(option, e.Message);
    }
}
