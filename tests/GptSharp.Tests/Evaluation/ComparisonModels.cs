using GptSharp.Checkpoints;
using GptSharp.Compression;
using GptSharp.Models;
using GptSharp.Tokenization;

namespace GptSharp.Tests.Evaluation;

/// <summary>Tiny chat models and held-out dialogues for the comparison tests (fixed seeds, a few milliseconds per token).</summary>
static class ComparisonModels
{
    public const string Dialogues = """
        {"input": "Where is order 123?", "output": "Order 123 has shipped."}
        {"input": "Can I return my mug?", "output": "Yes, within 30 days."}
        {"input": "Where is order 456?", "output": "Order 456 has shipped."}
        """;

    static BpeTokenizer Tokenizer(string corpus) =>
        new BpeTrainer(new BpeTrainerOptions { VocabSize = 300, MinPairFrequency = 1 }).Train([corpus]);

    /// <summary>A model directory at <paramref name="dir"/>; <paramref name="corpus"/> sets its tokenizer (another corpus, another vocabulary).</summary>
    public static string Create(string dir, int layers = 1, string corpus = "Where is order 123? Order 123 has shipped. Can I return my mug? Yes, within 30 days.")
    {
        var tok = Tokenizer(corpus);
        using var model = Gpt.Create(new GptConfig { VocabSize = tok.VocabSize, BlockSize = 64, NLayer = layers, NHead = 2, NEmbd = 32 }, seed: 7);
        new ModelDirectory(model, tok).Save(dir);
        return dir;
    }

    /// <summary>The `gptsharp quantize` output of <paramref name="floatDir"/>.</summary>
    public static string Quantized(string floatDir, string dir)
    {
        WeightQuantization.QuantizeDirectory(floatDir, dir);
        return dir;
    }
}
