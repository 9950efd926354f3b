using GptSharp.Inference;
using GptSharp.Models;
using TorchSharp;
using GptSharp.Checkpoints;

namespace GptSharp.Tests.Inference;

public class TextGeneratorTests
{
    static readonly GptConfig Tiny = new() { VocabSize = 97, BlockSize = 32, NLayer = 2, NHead = 4, NEmbd = 32 };
    static readonly int[] Prompt = [5, 17, 3, 42, 8];

    // GPT-2's init gives near-uniform logits; larger weights give a model with clear preferences, like a trained one.
    static Gpt Model(long seed = 3)
    {
        var m = Gpt.Create(Tiny, seed);
        using var _ = torch.no_grad();
        foreach (var p in m.parameters()) p.mul_(20);
        return m;
    }

    static readonly GenerationOptions Greedy = new() { DoSample = false, MaxNewTokens = 20 };
    static readonly GenerationOptions Sampled = new() { Seed = 11, Temperature = 0.9, TopK = 20, TopP = 0.95, MaxNewTokens = 20 };

    [Fact]
    public void GreedyWithCacheEqualsWithout()
    {
        using var m = Model();
        var g = new TextGenerator(m);
        var cached = g.Generate(Prompt, Greedy);
        var recomputed = g.Generate(Prompt, Greedy with { UseCache = false });
        Assert.Equal(20, cached.Length);
        Assert.Equal(recomputed, cached);
    }

    [Fact]
    public void SamplingWithCacheEqualsWithout()
    {
        using var m = Model();
        var g = new TextGenerator(m);
        Assert.Equal(g.Generate(Prompt, Sampled with { UseCache = false }), g.Generate(Prompt, Sampled));
    }

    [Fact]
    public void SameSeedSameOutputOtherSeedOtherOutput()
    {
        using var m = Model();
        var g = new TextGenerator(m);
        var hot = Sampled with { Temperature = 2, TopK = 0, TopP = 1 };
        Assert.Equal(g.Generate(Prompt, hot), g.Generate(Prompt, hot));
        Assert.NotEqual(g.Generate(Prompt, hot), g.Generate(Prompt, hot with { Seed = 12 }));
    }

    [Fact]
    public void TemperatureZeroIsGreedy()
    {
        using var m = Model();
        var g = new TextGenerator(m);
        Assert.Equal(g.Generate(Prompt, Greedy), g.Generate(Prompt, Sampled with { Temperature = 0 }));
    }

    [Fact]
    public void StopsAtEndOfTextWithoutEmittingIt()
    {
        using var m = Model();
        var free = new TextGenerator(m).Generate(Prompt, Greedy);
        // Call the first token that shows up after the start "end-of-text": generation must stop just before it.
        int at = Enumerable.Range(1, free.Length - 1).First(i => !free[..i].Contains(free[i]));
        var stopped = new TextGenerator(m, endOfTextId: free[at]).Generate(Prompt, Greedy);
        Assert.Equal(free[..at], stopped);
        var ignored = new TextGenerator(m, endOfTextId: free[at]).Generate(Prompt, Greedy with { StopAtEndOfText = false });
        Assert.Equal(free, ignored);
    }

    [Fact]
    public void MaxNewTokensAndTheContextBoundTheOutput()
    {
        using var m = Model();
        var g = new TextGenerator(m);
        Assert.Equal(3, g.Generate(Prompt, Sampled with { MaxNewTokens = 3 }).Length);
        Assert.Single(g.Generate(Prompt, Greedy with { MaxNewTokens = 1 }));
        // 30 of 32 positions used: tokens for positions 30, 31 and the one they predict, then the context is full.
        var longPrompt = Enumerable.Range(0, 30).ToArray();
        Assert.Equal(3, g.Generate(longPrompt, Greedy).Length);
        Assert.Equal(g.Generate(longPrompt, Greedy with { UseCache = false }), g.Generate(longPrompt, Greedy));
    }

    [Fact]
    public void PromptLongerThanTheContextIsAClearError()
    {
        using var m = Model();
        var e = Assert.Throws<GptSharpException>(() => new TextGenerator(m).Generate(new int[33], Greedy));
        Assert.Contains("33 tokens", e.Message);
        Assert.Contains("32", e.Message);
        Assert.Single(new TextGenerator(m).Generate(new int[32], Greedy)); // a full context still predicts one token
    }

    [Fact]
    public void BadPromptsAreClearErrors()
    {
        using var m = Model();
        Assert.Contains("97", Assert.Throws<GptSharpException>(() => new TextGenerator(m).Generate([1, 97], Greedy)).Message);
        Assert.Contains("empty", Assert.Throws<GptSharpException>(() => new TextGenerator(m).Generate([], Greedy)).Message);
        Assert.Equal(5, new TextGenerator(m, endOfTextId: 0).Generate([], Greedy with { MaxNewTokens = 5, StopAtEndOfText = false }).Length);
        Assert.Throws<GptSharpException>(() => new TextGenerator(m, endOfTextId: 97));
    }

    [Theory]
    [InlineData("max_new_tokens", 0, 1.0, 50, 1.0)]
    [InlineData("temperature", 10, -0.1, 50, 1.0)]
    [InlineData("temperature", 10, double.NaN, 50, 1.0)]
    [InlineData("top_k", 10, 1.0, -1, 1.0)]
    [InlineData("top_p", 10, 1.0, 50, 0.0)]
    [InlineData("top_p", 10, 1.0, 50, 1.5)]
    public void InvalidOptionsAreNamed(string option, int maxNew, double temperature, int topK, double topP)
    {
        var o = new GenerationOptions { MaxNewTokens = maxNew, Temperature = temperature, TopK = topK, TopP = topP };
        Assert.StartsWith($"invalid generation option: {option}", Assert.Throws<GptSharpException>(() => o.Validate()).Message);
        using var m = Model();
        Assert.Throws<GptSharpException>(() => new TextGenerator(m).StreamAsync(Prompt, o)); // checked before the first token
    }

    [Fact]
    public async Task StreamYieldsWhatGenerateReturns()
    {
        using var m = Model();
        var g = new TextGenerator(m);
        var streamed = new List<int>();
        await foreach (int id in g.StreamAsync(Prompt, Sampled)) streamed.Add(id);
        Assert.Equal(g.Generate(Prompt, Sampled), streamed);
    }

    [Fact]
    public async Task CancelledStreamFreesTheCache()
    {
        using var m = Model();
        m.train();
        var g = new TextGenerator(m);
        using var cts = new CancellationTokenSource();
        long before = LiveTensors(), during = 0;
        int received = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (int _ in g.StreamAsync(Prompt, Greedy, cts.Token))
                if (++received == 3) { during = LiveTensors(); cts.Cancel(); }
        });
        Assert.Equal(3, received);
        Assert.True(during >= before + 2 * Tiny.NLayer, $"the cache should hold tensors while streaming ({before} → {during})");
        Assert.Equal(before, LiveTensors());
        Assert.True(m.training); // the model's mode is restored
    }

    [Fact]
    public async Task LeavingAStreamEarlyFreesTheCache()
    {
        using var m = Model();
        var g = new TextGenerator(m);
        long before = LiveTensors();
        await foreach (int _ in g.StreamAsync(Prompt, Greedy)) break;
        Assert.Equal(before, LiveTensors());
        g.Generate(Prompt, Sampled);
        Assert.Equal(before, LiveTensors()); // and a whole generation leaks nothing either
    }

    /// <summary>Tensors alive on this thread; every step above runs on the test's thread.</summary>
    static long LiveTensors() => DisposeScopeManager.Statistics.ThreadTotalLiveCount;
}

public class TextGeneratorReferenceTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void GreedyMatchesTheHuggingFaceReference(bool useCache)
    {
        var greedy = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Fixture.Path("gpt2-tiny-hf", "expected.json")))
            .RootElement.GetProperty("greedy");
        int[] Ids(string name) => greedy.GetProperty(name).EnumerateArray().Select(e => e.GetInt32()).ToArray();
        using var m = GptSharp.Checkpoints.HfCheckpoint.Load(Fixture.Path("gpt2-tiny-hf"));
        // The reference does not stop at end-of-text; ours would, had the model produced 50256.
        var g = new TextGenerator(m, endOfTextId: 50256);
        var got = g.Generate(Ids("prompt_ids"), new GenerationOptions { DoSample = false, MaxNewTokens = 20, UseCache = useCache });
        Assert.Equal(Ids("generated_ids"), got);
    }
}
