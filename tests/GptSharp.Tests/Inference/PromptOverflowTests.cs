using GptSharp.Inference;
using GptSharp.Models;
using static TorchSharp.torch;

namespace GptSharp.Tests.Inference;

/// <summary>Prompts too long for the context: a clear error by default, or the oldest tokens dropped with <see cref="PromptOverflow.TrimStart"/>.</summary>
public class PromptOverflowTests
{
    static readonly GptConfig Tiny = new() { VocabSize = 97, BlockSize = 32, NLayer = 2, NHead = 4, NEmbd = 32 };
    static readonly int[] Long = Enumerable.Range(0, 40).Select(i => (i * 7 + 3) % 97).ToArray();
    static readonly GenerationOptions Trim = new() { DoSample = false, MaxNewTokens = 10, StopAtEndOfText = false, PromptOverflow = PromptOverflow.TrimStart };

    static Gpt Model()
    {
        var m = Gpt.Create(Tiny, 3);
        using var _ = no_grad();
        foreach (var p in m.parameters()) p.mul_(20);
        return m;
    }

    [Theory]
    // context 32: the prompt keeps max(32 - max_new_tokens, 16) tokens when it and max_new_tokens do not both fit.
    [InlineData(40, 10, 22)]
    [InlineData(40, 20, 16)] // room for 20 would keep only 12: half the context instead
    [InlineData(40, 32, 16)]
    [InlineData(30, 10, 22)] // fits the context, but leaves room for only 3 new tokens
    [InlineData(22, 10, 22)] // exactly fits with its room: kept whole
    [InlineData(10, 30, 10)] // short prompts are never trimmed
    [InlineData(32, 1, 31)] // at least one position is left to generate in
    public void TrimStartKeepsRoomForGenerationButAtLeastHalfTheContext(int promptLength, int maxNewTokens, int kept)
    {
        var o = new GenerationOptions { MaxNewTokens = maxNewTokens, PromptOverflow = PromptOverflow.TrimStart };
        Assert.Equal(kept, o.PromptTokensKept(promptLength, 32));
        Assert.Equal(promptLength, (o with { PromptOverflow = PromptOverflow.Error }).PromptTokensKept(promptLength, 32));
        Assert.Equal(1, o.PromptTokensKept(5, 1)); // a one-position context still starts from one token
    }

    [Fact]
    public void TheDefaultIsAnErrorNamingTheLengthsAndTheOption()
    {
        using var m = Model();
        var g = new TextGenerator(m);
        var e = Assert.Throws<GptSharpException>(() => g.Generate(Long, Trim with { PromptOverflow = PromptOverflow.Error }));
        Assert.Contains("40 tokens", e.Message);
        Assert.Contains("only 32", e.Message);
        Assert.Contains("prompt_overflow", e.Message);
        Assert.Contains("--prompt-overflow trim", e.Message);
        Assert.Equal(PromptOverflow.Error, new GenerationOptions().PromptOverflow);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task TrimmingKeepsTheTailAndEqualsGeneratingFromTheTrimmedPrompt(bool useCache)
    {
        using var m = Model();
        var g = new TextGenerator(m);
        var o = Trim with { UseCache = useCache };
        int[] tail = Long[^22..];
        var expected = g.Complete(tail, o with { PromptOverflow = PromptOverflow.Error });
        Assert.Equal(10, expected.Ids.Length); // room for every new token was left
        Assert.Equal(FinishReason.Length, expected.FinishReason);

        var trimmed = g.Complete(Long, o);
        Assert.Equal(expected.Ids, trimmed.Ids);
        Assert.Equal(expected.FinishReason, trimmed.FinishReason);
        Assert.Equal(expected.Ids, g.Generate(Long, o));

        var streamed = new List<int>();
        await foreach (int id in g.StreamAsync(Long, o)) streamed.Add(id);
        Assert.Equal(expected.Ids, streamed);

        // Batched: each prompt trimmed on its own (the long one joins the 22-token group).
        int[] other = Enumerable.Range(50, 22).ToArray();
        var batch = g.GenerateBatch([Long, other, Long[..5]], o);
        Assert.Equal(expected.Ids, batch[0].Ids);
        Assert.Equal(g.Generate(other, o), batch[1].Ids);
        Assert.Equal(g.Generate(Long[..5], o), batch[2].Ids);

        var beams = o with { NumBeams = 3, NumReturnSequences = 3 };
        Assert.Equal(g.GenerateBeams(tail, beams).Select(b => b.Ids), g.GenerateBeams(Long, beams).Select(b => b.Ids));
    }

    [Fact]
    public void EmptyPromptsStartFromEndOfTextWhateverTheOverflowOption()
    {
        using var m = Model();
        Assert.Contains("empty", Assert.Throws<GptSharpException>(() => new TextGenerator(m).Generate([], Trim)).Message);
        var g = new TextGenerator(m, endOfTextId: 0);
        Assert.Equal(g.Generate([0], Trim), g.Generate([], Trim));
    }
}
