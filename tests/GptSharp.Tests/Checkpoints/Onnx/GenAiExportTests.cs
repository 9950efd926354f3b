using System.Text.Json.Nodes;
using GptSharp.Checkpoints;
using GptSharp.Checkpoints.Onnx;
using GptSharp.Inference;
using GptSharp.Inference.Onnx;
using GptSharp.Models;
using GptSharp.Tokenization;
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

    [Fact]
    public void AChatModelKeepsItsTemplateEndTokenAndDecodingDefaults()
    {
        using var tmp = new Fixture.TempDir();
        var tok = BpeTokenizer.Gpt2();
        int end = tok.TokenToId(SpecialTokens.End)!.Value;
        using var gpt = Gpt.Create(new GptConfig { VocabSize = tok.VocabSize, BlockSize = 32, NLayer = 1, NHead = 2, NEmbd = 32 }, 3);
        var generation = new GenerationOptions { Temperature = 0.5, TopK = 7, RepetitionPenalty = 1.2 };
        using var chat = new ModelDirectory(gpt, tok) { ChatTemplate = new ChatTemplate(tok), Generation = generation, EndTokenIds = [end] };
        OnnxExport.Export(chat, tmp["onnx"]);

        Assert.Contains("chat_template", File.ReadAllText(tmp["onnx/tokenizer_config.json"]));
        var json = JsonNode.Parse(File.ReadAllText(tmp["onnx/genai_config.json"]))!;
        Assert.Equal([tok.EndOfTextId, end], json["model"]!["eos_token_id"]!.AsArray().Select(n => (int)n!));
        var search = json["search"]!;
        Assert.Equal((true, 0.5, 7, 1.2), ((bool)search["do_sample"]!, (double)search["temperature"]!, (int)search["top_k"]!, (double)search["repetition_penalty"]!));

        // GenAI's tokenizer reads the role tokens as the special tokens they are.
        const string rendered = "<|user|>Hi there<|end|><|assistant|>";
        using var model = new Model(tmp["onnx"]);
        using var tokenizer = new Tokenizer(model);
        using var sequences = tokenizer.Encode(rendered);
        Assert.Equal(tok.EncodeWithSpecialTokens(rendered), sequences[0].ToArray());
    }
}
