using GptSharp.Checkpoints;
using GptSharp.Checkpoints.Onnx;
using GptSharp.Inference;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace GptSharp.Tests.Checkpoints.Onnx;

/// <summary>The export as ONNX Runtime GenAI users run it: genai_config.json, its tokenizer, its own decoding loop.</summary>
public class GenAiExportTests
{
    [Fact]
    public void GenAiTokenizesAndDecodesGreedilyAsGptSharpDoes()
    {
        using var tmp = new Fixture.TempDir();
        OnnxExport.Export(Fixture.Path("gpt2-tiny-hf"), tmp["onnx"]);
        using var ours = ModelDirectory.Load(Fixture.Path("gpt2-tiny-hf"));
        const string text = "Hello, world! The tiny model speaks.";
        int[] prompt = ours.Tokenizer.Encode(text);
        const int newTokens = 12;
        var expected = new TextGenerator(ours.Model, ours.Tokenizer)
            .Generate(prompt, new GenerationOptions { DoSample = false, MaxNewTokens = newTokens, StopAtEndOfText = false });
        Assert.DoesNotContain(ours.Tokenizer.EndOfTextId, expected);

        using var model = new Model(tmp["onnx"]);
        using var tokenizer = new Tokenizer(model);
        using var sequences = tokenizer.Encode(text);
        Assert.Equal(prompt, sequences[0].ToArray());
        using var search = new GeneratorParams(model);
        search.SetSearchOption("max_length", prompt.Length + newTokens);
        search.SetSearchOption("do_sample", false);
        using var generator = new Generator(model, search);
        generator.AppendTokenSequences(sequences);
        while (!generator.IsDone()) generator.GenerateNextToken();
        var all = generator.GetSequence(0).ToArray();
        Assert.Equal(expected, all[prompt.Length..]);
        Assert.Equal(ours.Tokenizer.Decode(expected), tokenizer.Decode(all[prompt.Length..]));
    }
}
