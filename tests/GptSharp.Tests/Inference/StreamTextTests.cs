using System.Text;
using GptSharp.Inference;
using GptSharp.Models;
using GptSharp.Tests.Chat;
using GptSharp.Tokenization;
using static TorchSharp.torch;
using GptSharp.Chat.Safety;

namespace GptSharp.Tests.Inference;

/// <summary><see cref="TextGenerator.StreamTextAsync(IReadOnlyList{int}, GenerationOptions?, CancellationToken)"/>: text deltas, finish reasons, trimmed prompts.</summary>
public sealed class StreamTextTests : IDisposable
{
    static readonly BpeTokenizer Gpt2 = BpeTokenizer.Gpt2();
    static readonly GenerationOptions Sampled = new() { Seed = 11, Temperature = 0.9, TopK = 40, TopP = 0.95, MaxNewTokens = 24 };
    static readonly GenerationOptions Greedy = new() { DoSample = false, MaxNewTokens = 12 };

    // GPT-2's vocabulary, one small random layer with weights large enough to have preferences.
    readonly Gpt _model = Model(64);
    public void Dispose() => _model.Dispose();

    static Gpt Model(int context)
    {
        var m = Gpt.Create(new GptConfig { VocabSize = 50257, BlockSize = context, NLayer = 1, NHead = 2, NEmbd = 32 }, 5);
        using var _ = no_grad();
        foreach (var p in m.parameters()) p.mul_(4);
        return m;
    }

    static async Task<List<TextDelta>> All(IAsyncEnumerable<TextDelta> deltas)
    {
        var list = new List<TextDelta>();
        await foreach (var d in deltas) list.Add(d);
        return list;
    }

    static string Text(IEnumerable<TextDelta> deltas) => string.Concat(deltas.Select(d => d.Text));

    /// <summary>Only the last delta says why generation ended.</summary>
    static FinishReason? Reason(List<TextDelta> deltas)
    {
        Assert.All(deltas[..^1], d => Assert.Null(d.FinishReason));
        return deltas[^1].FinishReason;
    }

    [Fact]
    public async Task DeltasConcatenateToTheCompletedText()
    {
        var g = new TextGenerator(_model, Gpt2);
        int[] prompt = Gpt2.Encode("Once upon a time");
        var complete = g.Complete(prompt, Sampled);
        var deltas = await All(g.StreamTextAsync(prompt, Sampled));

        Assert.Equal(complete.Text, Text(deltas));
        Assert.Equal(complete.Ids, deltas.SelectMany(d => d.Ids));
        Assert.Equal(FinishReason.Length, Reason(deltas));
        Assert.Equal(complete.FinishReason, deltas[^1].FinishReason);
        Assert.Equal(24, deltas.Count(d => d.Ids.Count == 1)); // one delta per token, then the last
        Assert.Empty(deltas[^1].Ids);
        // The text overload encodes the prompt the same way.
        Assert.Equal(complete.Text, Text(await All(g.StreamTextAsync("Once upon a time", Sampled))));
    }

    [Fact]
    public async Task AStopSequenceCutsTheTextExactlyAndIsTheFinishReason()
    {
        var g = new TextGenerator(_model, Gpt2);
        int[] prompt = Gpt2.Encode("Once upon a time");
        string full = g.Complete(prompt, Sampled).Text!;
        Assert.True(full.Length > 12, full);
        string stop = full.Substring(7, 3);
        var o = Sampled with { StopSequences = ["no such text at all", stop] };

        var complete = g.Complete(prompt, o);
        var deltas = await All(g.StreamTextAsync(prompt, o));

        Assert.Equal(full[..full.IndexOf(stop, StringComparison.Ordinal)], Text(deltas));
        Assert.Equal(complete.Text, Text(deltas));
        Assert.Equal(FinishReason.StopSequence, Reason(deltas));
        // Every token generated is in some delta, the one completing the stop sequence in the last.
        var ids = deltas.SelectMany(d => d.Ids).ToArray();
        Assert.Equal(complete.Ids, ids[..complete.Ids.Length]);
        Assert.Contains(stop, Gpt2.DecodeText(ids));
        Assert.DoesNotContain(stop, Gpt2.DecodeText(ids[..^1]));
        Assert.Single(deltas[^1].Ids);
    }

    [Fact]
    public async Task AnEndTokenIsStopAndNeverShown()
    {
        using var model = BiasedModel.AlwaysSays(Gpt2.EndOfTextId);
        var deltas = await All(new TextGenerator(model, Gpt2).StreamTextAsync(Gpt2.Encode("Hi"), Greedy));
        var last = Assert.Single(deltas);
        Assert.Equal(FinishReason.EndOfText, last.FinishReason);
        Assert.Equal("", last.Text);
        Assert.Empty(last.Ids);
    }

    [Fact]
    public async Task AFullContextEndsGeneration()
    {
        using var model = Model(16);
        var deltas = await All(new TextGenerator(model, Gpt2).StreamTextAsync(Enumerable.Range(100, 10).ToArray(), Greedy with { MaxNewTokens = 20, StopAtEndOfText = false }));
        Assert.Equal(FinishReason.ContextFull, Reason(deltas));
        Assert.Equal(7, deltas.Sum(d => d.Ids.Count)); // positions 10..15, and the last token may take position 16
    }

    [Fact]
    public async Task CancellingEndsWithACancelledDeltaAndWhatWasShown()
    {
        var g = new TextGenerator(_model, Gpt2);
        using var cts = new CancellationTokenSource();
        var deltas = new List<TextDelta>();
        await foreach (var d in g.StreamTextAsync(Gpt2.Encode("Once upon a time"), Sampled, cts.Token))
        {
            deltas.Add(d);
            if (deltas.Count == 3) cts.Cancel();
        }
        Assert.Equal(4, deltas.Count); // no token after the cancellation
        Assert.Equal(FinishReason.Cancelled, Reason(deltas));
        var complete = g.Complete(Gpt2.Encode("Once upon a time"), Sampled with { MaxNewTokens = 3 });
        Assert.Equal(complete.Text, Text(deltas));
    }

    [Fact]
    public async Task EveryDeltaSaysHowManyPromptTokensWereKept()
    {
        using var model = Model(32);
        var g = new TextGenerator(model, Gpt2);
        int[] prompt = Gpt2.Encode(string.Concat(Enumerable.Repeat(" word", 40)));
        Assert.Equal(40, prompt.Length);
        var trim = Greedy with { MaxNewTokens = 10, PromptOverflow = PromptOverflow.TrimStart };

        var deltas = await All(g.StreamTextAsync(prompt, trim));
        Assert.All(deltas, d => Assert.Equal(22, d.PromptTokensKept)); // 32 - 10
        Assert.Equal(g.Complete(prompt[^22..], trim).Text, Text(deltas));
        Assert.Equal(22, g.Complete(prompt, trim).PromptTokensKept);

        var whole = await All(g.StreamTextAsync(prompt[..5], trim));
        Assert.All(whole, d => Assert.Equal(5, d.PromptTokensKept));
        // Without TrimStart a prompt too long is an error, before the first delta is asked for.
        Assert.Throws<GptSharpException>(() => g.StreamTextAsync(prompt, Greedy));
    }

    [Fact]
    public async Task TextIsWholeCharactersWhenTokensSplitThem()
    {
        // GPT-2 spells these characters with tokens that end inside them: such a token's delta has its id but no text yet.
        string poem = "一首诗🌹龘";
        int[] ids = Gpt2.Encode(poem);
        var g = new ScriptedModel(ids).Generator();
        var deltas = await All(g.StreamTextAsync([Gpt2.EndOfTextId], Greedy with { MaxNewTokens = 50 }));

        Assert.Equal(poem, Text(deltas));
        Assert.Equal(ids, deltas.SelectMany(d => d.Ids));
        Assert.All(deltas, d => Assert.DoesNotContain('\uFFFD', d.Text));
        Assert.Contains(deltas, d => d.Ids.Count == 1 && d.Text.Length == 0);
        Assert.All(deltas, d => Assert.True(Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(d.Text)) == d.Text));
    }

    [Fact]
    public void BeamSearchAndMissingTokenizerAreRefusedUpFront()
    {
        var g = new TextGenerator(_model, Gpt2);
        var e = Assert.Throws<GptSharpException>(() => g.StreamTextAsync([1, 2], Greedy with { NumBeams = 2 }));
        Assert.Contains("num_beams must be 1 when streaming", e.Message);
        Assert.Throws<GptSharpException>(() => new TextGenerator(_model).StreamTextAsync([1, 2], Greedy));
    }

    [Fact]
    public void BeamResultsSayWhyTheyEndedAndHowMuchPromptWasKept()
    {
        var g = new TextGenerator(_model, Gpt2);
        var beams = g.GenerateBeams(Gpt2.Encode("Once upon a time"), Greedy with { NumBeams = 2, NumReturnSequences = 2, MaxNewTokens = 4, StopAtEndOfText = false });
        Assert.All(beams, b => Assert.Equal(FinishReason.Length, b.FinishReason));
        Assert.All(beams, b => Assert.Equal(4, b.PromptTokensKept));
    }

    [Theory]
    [InlineData(FinishReason.EndOfText, "stop")]
    [InlineData(FinishReason.Length, "length")]
    [InlineData(FinishReason.ContextFull, "length")]
    [InlineData(FinishReason.StopSequence, "stop_sequence")]
    [InlineData(FinishReason.ContentFilter, "content_filter")]
    [InlineData(FinishReason.Cancelled, "cancelled")]
    public void FinishReasonsHaveTheirWireNames(FinishReason reason, string name) => Assert.Equal(name, reason.Name());
}
