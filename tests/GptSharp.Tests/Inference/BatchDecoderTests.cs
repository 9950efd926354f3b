using GptSharp.Inference;
using GptSharp.Models;
using GptSharp.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Tests.Inference;

/// <summary>
/// <see cref="BatchDecoder"/>: requests decoded together stream what each would stream alone, join and leave between
/// steps, prefill long prompts in chunks, end on cancellation with their cache freed, and reuse a conversation's cache.
/// </summary>
public class BatchDecoderTests : IDisposable
{
    static readonly BpeTokenizer Gpt2 = BpeTokenizer.Gpt2();
    static readonly GenerationOptions Greedy = new() { DoSample = false, MaxNewTokens = 12 };

    protected readonly Gpt _model = Model();
    public void Dispose()
    {
        _model.Dispose();
        GC.SuppressFinalize(this);
    }

    static Gpt Model()
    {
        var m = Gpt.Create(new GptConfig { VocabSize = 50257, BlockSize = 96, NLayer = 2, NHead = 2, NEmbd = 32 }, 5);
        using var _ = no_grad();
        foreach (var p in m.parameters()) p.mul_(4); // weights with preferences, so greedy tokens are far apart
        m.eval();
        return m;
    }

    static readonly string[] Prompts =
    [
        "Once upon a time", "Where is my order?", "The quick brown fox jumps over the lazy dog, and then",
        "Hello", "A much longer prompt that takes several prefill chunks to go into the cache before it decodes anything",
    ];

    static async Task<List<TextDelta>> All(IAsyncEnumerable<TextDelta> deltas)
    {
        var list = new List<TextDelta>();
        await foreach (var d in deltas) list.Add(d);
        return list;
    }

    /// <summary>Steps the decoder on this thread until every request is done; returns how many steps it took.</summary>
    static int Drain(BatchDecoder decoder)
    {
        int steps = 0;
        while (decoder.Step()) steps++;
        return steps;
    }

    [Theory]
    [InlineData(8, 256)]
    [InlineData(2, 5)] // requests wait for a slot, and long prompts go in over several steps
    public async Task EachRequestStreamsWhatItWouldStreamAlone(int maxBatch, int prefillChunk)
    {
        var g = new TextGenerator(_model, Gpt2);
        var options = Prompts.Select((_, i) => i % 2 == 0 ? Greedy : new GenerationOptions { Seed = 7 + i, Temperature = 0.8, TopK = 50, MaxNewTokens = 10 + i }).ToArray();
        using var decoder = new BatchDecoder(g, new BatchDecoderOptions { MaxBatch = maxBatch, PrefillChunk = prefillChunk });
        var requests = Prompts.Select((p, i) => decoder.Submit(Gpt2.Encode(p), options[i])).ToList();
        Drain(decoder);
        for (int i = 0; i < Prompts.Length; i++)
        {
            var alone = await All(g.StreamTextAsync(Gpt2.Encode(Prompts[i]), options[i]));
            var batched = await All(requests[i].ReadAllAsync());
            Assert.Equal(alone.Select(d => (d.Text, string.Join(",", d.Ids), d.FinishReason)), batched.Select(d => (d.Text, string.Join(",", d.Ids), d.FinishReason)));
        }
        Assert.Equal(0, decoder.ActiveCount);
    }

    [Fact]
    public void RequestsDecodeTogetherOneForwardPassPerStep()
    {
        var g = new TextGenerator(_model, Gpt2);
        using var decoder = new BatchDecoder(g, new BatchDecoderOptions { MaxBatch = 4, PrefillChunk = 1000 });
        for (int i = 0; i < 4; i++) decoder.Submit(Gpt2.Encode(Prompts[i]), Greedy with { StopAtEndOfText = false });
        // The prompts go in with the first step's pass, which also picks every first token; then one step per token.
        Assert.Equal(Greedy.MaxNewTokens, Drain(decoder));
    }

    [Fact]
    public async Task StopSequencesAndEndTokensEndARequestAsAlone()
    {
        var g = new TextGenerator(_model, Gpt2);
        var free = g.Complete(Gpt2.Encode(Prompts[0]), Greedy);
        string stop = free.Text![3..6]; // text the continuation is known to contain
        var withStop = Greedy with { StopSequences = [stop] };
        using var decoder = new BatchDecoder(g);
        var stopped = decoder.Submit(Gpt2.Encode(Prompts[0]), withStop);
        var other = decoder.Submit(Gpt2.Encode(Prompts[1]), Greedy);
        Drain(decoder);
        var deltas = await All(stopped.ReadAllAsync());
        Assert.Equal(FinishReason.StopSequence, deltas[^1].FinishReason);
        Assert.Equal(g.Complete(Gpt2.Encode(Prompts[0]), withStop).Text, string.Concat(deltas.Select(d => d.Text)));
        Assert.DoesNotContain(stop, string.Concat(deltas.Select(d => d.Text)));
        Assert.Equal(g.Complete(Gpt2.Encode(Prompts[1]), Greedy).Text, string.Concat((await All(other.ReadAllAsync())).Select(d => d.Text)));
    }

    [Fact]
    public async Task ACancelledRequestLeavesAtOnceAndTheOthersGoOn()
    {
        var g = new TextGenerator(_model, Gpt2);
        using var decoder = new BatchDecoder(g, new BatchDecoderOptions { PrefixCacheEntries = 0 });
        using var cts = new CancellationTokenSource();
        var cancelled = decoder.Submit(Gpt2.Encode(Prompts[0]), Greedy with { MaxNewTokens = 40, StopAtEndOfText = false }, cts.Token);
        var kept = decoder.Submit(Gpt2.Encode(Prompts[1]), Greedy);
        decoder.Step();
        decoder.Step();
        Assert.Equal(2, decoder.ActiveCount);
        cts.Cancel();
        decoder.Step();
        Assert.Equal(1, decoder.ActiveCount);
        var deltas = await All(cancelled.ReadAllAsync());
        Assert.Equal(FinishReason.Cancelled, deltas[^1].FinishReason);
        Assert.Equal(2, deltas.Count(d => d.Ids.Count == 1)); // the two tokens decoded before the cancellation
        Drain(decoder);
        Assert.Equal(g.Complete(Gpt2.Encode(Prompts[1]), Greedy).Text, string.Concat((await All(kept.ReadAllAsync())).Select(d => d.Text)));
        Assert.Equal(0, decoder.ActiveCount);
    }

    [Fact]
    public async Task TheNextTurnOfAConversationReusesItsCache()
    {
        var g = new TextGenerator(_model, Gpt2);
        using var decoder = new BatchDecoder(g);
        int[] first = Gpt2.Encode("User: where is my order?\nAssistant:");
        var one = decoder.Submit(first, Greedy);
        Drain(decoder);
        var reply = (await All(one.ReadAllAsync())).SelectMany(d => d.Ids).ToArray();
        Assert.Equal(1, decoder.CachedPrefixes);

        int[] next = [.. first, .. reply, .. Gpt2.Encode("\nUser: and when will it come?\nAssistant:")];
        var two = decoder.Submit(next, Greedy);
        Drain(decoder);
        var deltas = await All(two.ReadAllAsync());
        Assert.Equal(first.Length + reply.Length - 1, two.PromptTokensCached); // all but the last reply token, never fed back
        Assert.Equal(g.Complete(next, Greedy).Text, string.Concat(deltas.Select(d => d.Text)));
    }

    [Fact]
    public void NothingLeaksAcrossSteps()
    {
        var g = new TextGenerator(_model, Gpt2);
        using var decoder = new BatchDecoder(g, new BatchDecoderOptions { PrefixCacheEntries = 0 });
        decoder.Submit(Gpt2.Encode(Prompts[0]), Greedy);
        decoder.Step();
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        decoder.Step();
        decoder.Step();
        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public async Task RunAsyncServesRequestsFromOtherThreads()
    {
        var g = new TextGenerator(_model, Gpt2);
        using var decoder = new BatchDecoder(g);
        using var stop = new CancellationTokenSource();
        var loop = decoder.RunAsync(stop.Token);
        var texts = await Task.WhenAll(Prompts.Select(p => Task.Run(async () =>
            string.Concat((await All(decoder.Submit(Gpt2.Encode(p), Greedy).ReadAllAsync())).Select(d => d.Text)))));
        for (int i = 0; i < Prompts.Length; i++) Assert.Equal(g.Complete(Gpt2.Encode(Prompts[i]), Greedy).Text, texts[i]);
        stop.Cancel();
        await loop;
    }

    [Fact]
    public async Task LogprobsAreTheModelsOwnAndAgreeAlone()
    {
        var g = new TextGenerator(_model, Gpt2);
        var options = Greedy with { Logprobs = 3 };
        var alone = (await All(g.StreamTextAsync(Gpt2.Encode(Prompts[0]), options))).Where(d => d.Ids.Count == 1 && d.FinishReason is null).ToList();
        using var decoder = new BatchDecoder(g);
        var request = decoder.Submit(Gpt2.Encode(Prompts[0]), options);
        decoder.Submit(Gpt2.Encode(Prompts[1]), Greedy); // a neighbour that asks for none
        Drain(decoder);
        var batched = (await All(request.ReadAllAsync())).Where(d => d.Ids.Count == 1 && d.FinishReason is null).ToList();
        Assert.Equal(alone.Count, batched.Count);
        for (int i = 0; i < alone.Count; i++)
        {
            var (a, b) = (alone[i].Logprob!, batched[i].Logprob!);
            Assert.Equal(alone[i].Ids[0], a.Id);
            Assert.Equal(3, a.Top.Count);
            Assert.Equal(a.Id, a.Top[0].Id); // greedy picks the most likely
            Assert.True(Math.Abs(a.Logprob - a.Top[0].Logprob) < 1e-9);
            Assert.True(a.Top.Sum(t => Math.Exp(t.Logprob)) <= 1 + 1e-6);
            Assert.True(Math.Abs(a.Logprob - b.Logprob) < 1e-4, $"{a.Logprob} alone, {b.Logprob} batched"); // batched products round differently
            Assert.Equal(a.Top.Select(t => t.Id), b.Top.Select(t => t.Id));
        }
        Assert.Null((await All(g.StreamTextAsync(Gpt2.Encode(Prompts[0]), Greedy)))[0].Logprob); // not asked, not computed
        Assert.Contains("logprobs must be null (off) or 0..20",
            Assert.Throws<GptSharpException>(() => decoder.Submit([1], Greedy with { Logprobs = 21 })).Message);
    }

    [Fact]
    public void BadRequestsAreRefusedWhenSubmitted()
    {
        var g = new TextGenerator(_model, Gpt2);
        using var decoder = new BatchDecoder(g);
        var e = Assert.Throws<GptSharpException>(() => decoder.Submit(Enumerable.Repeat(1, 200).ToArray(), Greedy));
        Assert.Contains("context holds only 96", e.Message);
        e = Assert.Throws<GptSharpException>(() => decoder.Submit([1, 2], Greedy with { NumBeams = 2 }));
        Assert.Contains("num_beams must be 1", e.Message);
        Assert.Equal(0, decoder.WaitingCount);
    }
}
