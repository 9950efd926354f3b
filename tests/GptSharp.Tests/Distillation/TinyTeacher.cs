using GptSharp.Checkpoints;
using GptSharp.Models;
using GptSharp.Tokenization;

namespace GptSharp.Tests.Distillation;

/// <summary>A tiny chat model to distil from, and dialogues in its domain.</summary>
static class TinyTeacher
{
    public static readonly string[] Pairs =
    [
        """{"input": "Where is order 123?", "output": "Order 123 has shipped."}""",
        """{"input": "Where is order 456?", "output": "Order 456 has shipped.", "system": "Be brief."}""",
        """{"input": "Can I return my mug?", "output": "Yes, within 30 days."}""",
        """{"input": "Where is order 789?", "output": "Order 789 is on its way."}""",
        """{"input": "Can I return my cup?", "output": "Yes, within 30 days."}""",
        """{"input": "Where is order 321?", "output": "Order 321 has shipped."}""",
    ];

    public const string Text = "Where is order 123? Order 123 has shipped. Can I return my mug? Yes, within 30 days. Order 789 is on its way.";

    public static BpeTokenizer Tokenizer(string extra = "") =>
        new BpeTrainer(new BpeTrainerOptions { VocabSize = 300, MinPairFrequency = 1 }).Train([Text + extra]);

    /// <summary>Saves a teacher of <paramref name="layers"/> layers (seeded) with its tokenizer and chat template as <paramref name="name"/>.</summary>
    public static string Create(Fixture.TempDir tmp, string name = "teacher", int layers = 4, double dropout = 0, long seed = 5, int nEmbd = 32)
    {
        var tok = Tokenizer();
        using var model = Gpt.Create(new GptConfig { VocabSize = tok.VocabSize, BlockSize = 64, NLayer = layers, NHead = 2, NEmbd = nEmbd, Dropout = dropout }, seed);
        var dir = new ModelDirectory(model, tok) { ChatTemplate = new ChatTemplate(tok) };
        dir.Save(tmp[name]);
        return tmp[name];
    }

    public static string Dialogues(Fixture.TempDir tmp, string name = "dialogues.jsonl")
    {
        File.WriteAllLines(tmp[name], Pairs);
        return tmp[name];
    }
}
