using GptSharp.Checkpoints;
using GptSharp.Inference;
using GptSharp.Models;
using GptSharp.Server.Scheduling;
using GptSharp.Tests.Inference;

namespace GptSharp.Tests.Server.Scheduling;

/// <summary>The scheduler the server runs: sequences decoded together, a bounded queue, cancellation, a drain.</summary>
[Collection(nameof(ServerCollection))]
public class ContinuousBatchingSchedulerTests(ServerModels models)
{
    static readonly GenerationOptions Greedy = new() { DoSample = false, MaxNewTokens = 3 };

    [Theory]
    [InlineData(DecodingEngineKind.Torch)]
    [InlineData(DecodingEngineKind.OnnxRuntime)] // its slots: sequences of different lengths in one pass
    public async Task SequencesDecodeTogetherAndAgreeWithTheGenerator(DecodingEngineKind engine)
    {
        using var dir = ModelDirectory.Load(models.Small, new LoadOptions { Engine = engine });
        Assert.Equal(engine == DecodingEngineKind.OnnxRuntime, dir.Model.Engine is not null);
        var generator = dir.CreateGenerator();
        await using var scheduler = new ContinuousBatchingScheduler(generator, "small", maxBatch: 4, maxQueue: 4);
        string[] prompts = ["Where is order 123?", "Can I return my mug?", "我的订单到了吗？", "Order"];
        var options = prompts.Select((_, i) => i % 2 == 0 ? Greedy with { MaxNewTokens = 8 } : new GenerationOptions { Seed = i, Temperature = 0.9, MaxNewTokens = 6 }).ToArray();
        var sequences = prompts.Select((p, i) => scheduler.Enqueue(generator.Tokenizer!.Encode(p), options[i], default)).ToList();
        for (int i = 0; i < prompts.Length; i++)
        {
            var alone = generator.Complete(generator.Tokenizer!.Encode(prompts[i]), options[i]);
            var deltas = await sequences[i].ReadAllAsync().ToListAsync();
            Assert.Equal(alone.Text, string.Concat(deltas.Select(d => d.Text)));
            Assert.Equal(alone.FinishReason, deltas[^1].FinishReason);
        }
        Assert.Equal(0, scheduler.QueueLength);
        Assert.Equal(0, scheduler.ActiveSequences);
    }

    [Theory]
    [InlineData(DecodingEngineKind.Torch)]
    [InlineData(DecodingEngineKind.OnnxRuntime)] // slots filled to the last position of the context
    public async Task ManyStreamsRunAtOnce(DecodingEngineKind engine)
    {
        using var dir = ModelDirectory.Load(models.Base, new LoadOptions { Engine = engine }); // a context of 128: long enough streams to overlap
        await using var scheduler = new ContinuousBatchingScheduler(dir.CreateGenerator(), "base", maxBatch: 3, maxQueue: 10);
        var options = Greedy with { MaxNewTokens = 200, StopAtEndOfText = false };
        var sequences = Enumerable.Range(0, 3).Select(i => scheduler.Enqueue([100 + i, 7, 8], options, default)).ToList();
        var all = await Task.WhenAll(sequences.Select(s => s.ReadAllAsync().ToListAsync().AsTask()));
        Assert.All(all, a => Assert.Equal(127, a.Count)); // 126 tokens fill the context (the last is never fed back), then the last delta
        // In turn, 3 × 126 passes; side by side, one pass decodes a token for each (a late joiner adds a few).
        Assert.InRange(scheduler.Passes, 126, 200);
        Assert.Equal(0, scheduler.ActiveSequences);
    }

    /// <summary>A one-token greedy request, retried until the scheduler has a place for it (at most 10 s).</summary>
    static async Task<ScheduledSequence> EnqueueOnceFree(ContinuousBatchingScheduler scheduler)
    {
        for (int i = 0; i < 500; i++)
        {
            try { return scheduler.Enqueue([1], Greedy, default); }
            catch (QueueFullException) { await Task.Delay(20); }
        }
        throw new Xunit.Sdk.XunitException("no place came free within 10 s");
    }

    /// <summary>
    /// "la" with a context of 2,048: a stream of <see cref="Long"/> tokens still decodes when the test's next line runs
    /// (60 tokens in the 64 of the served model's context could all be decoded before it).
    /// </summary>
    static TextGenerator LongLa(out Gpt model)
    {
        model = BiasedModel.AlwaysSays(ServerModels.Gpt2.Encode(" la").Single(), context: 2048);
        return new TextGenerator(model, ServerModels.Gpt2);
    }

    const int Long = 1000;

    [Fact]
    public async Task AFullQueueRefusesAndACancelledSequenceThrows()
    {
        var generator = LongLa(out var model);
        using var _ = model;
        await using var scheduler = new ContinuousBatchingScheduler(generator, "la", maxBatch: 1, maxQueue: 0);
        using var cancel = new CancellationTokenSource();
        // A long sequence holds the only place (one running, none waiting) while the next asks.
        var running = scheduler.Enqueue(ServerModels.Gpt2.Encode("Hello"), Greedy with { MaxNewTokens = Long }, cancel.Token);
        Assert.Throws<QueueFullException>(() => scheduler.Enqueue([1], Greedy, default));
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => { await foreach (var _ in running.ReadAllAsync()) { } });
        // Its place is free again.
        var next = await EnqueueOnceFree(scheduler);
        Assert.Equal(3, (await next.ReadAllAsync().ToListAsync()).Sum(d => d.Ids.Count));
    }

    [Fact]
    public async Task ASequenceNobodyReadsGivesItsPlaceBackWhenDone()
    {
        var generator = LongLa(out var model);
        using var _ = model;
        await using var scheduler = new ContinuousBatchingScheduler(generator, "la", maxBatch: 1, maxQueue: 0);
        // The route reads the decoder's deltas itself: the place must come back when decoding ends, not when reading does.
        // Long enough that it still holds the place when the next one asks (as in the test above).
        using var unread = scheduler.Enqueue(ServerModels.Gpt2.Encode("Hello"), Greedy with { MaxNewTokens = Long }, default);
        Assert.Throws<QueueFullException>(() => scheduler.Enqueue([1], Greedy, default));
        var next = await EnqueueOnceFree(scheduler);
        Assert.Equal(3, (await next.ReadAllAsync().ToListAsync()).Sum(d => d.Ids.Count));
        // What the first one decoded is still there to read.
        var kept = await unread.ReadAllAsync().ToListAsync();
        Assert.Equal(Long, kept.Sum(d => d.Ids.Count));
        Assert.Equal(FinishReason.Length, kept[^1].FinishReason);
        // One disposed before anyone reads it is stopped, and its place comes back too.
        var dropped = scheduler.Enqueue(ServerModels.Gpt2.Encode("Hello"), Greedy with { MaxNewTokens = 100 }, default);
        dropped.Dispose();
        await (await EnqueueOnceFree(scheduler)).ReadAllAsync().ToListAsync();
        Assert.Equal(0, scheduler.ActiveSequences);
    }

    [Fact]
    public async Task ABadPromptFailsItsSequenceOnly()
    {
        using var dir = ModelDirectory.Load(models.La);
        await using var scheduler = new ContinuousBatchingScheduler(dir.CreateGenerator(), "la", maxBatch: 2, maxQueue: 2);
        var bad = scheduler.Enqueue([1], Greedy with { NumBeams = 2 }, default);
        var e = await Assert.ThrowsAsync<GptSharpException>(async () => { await foreach (var _ in bad.ReadAllAsync()) { } });
        Assert.Contains("num_beams", e.Message);
        var good = scheduler.Enqueue(ServerModels.Gpt2.Encode("Hi"), Greedy, default);
        Assert.Equal(" la la la", string.Concat((await good.ReadAllAsync().ToListAsync()).Select(d => d.Text)));
    }

    [Fact]
    public async Task DisposingDrainsTheSequencesInFlight()
    {
        using var dir = ModelDirectory.Load(models.La);
        var scheduler = new ContinuousBatchingScheduler(dir.CreateGenerator(), "la", maxBatch: 2, maxQueue: 2);
        var a = scheduler.Enqueue(ServerModels.Gpt2.Encode("Hi"), Greedy with { MaxNewTokens = 30 }, default);
        var reading = a.ReadAllAsync().ToListAsync().AsTask();
        await scheduler.DisposeAsync();
        var deltas = await reading;
        Assert.Equal(FinishReason.Length, deltas[^1].FinishReason);
        Assert.Equal(30, deltas.Sum(d => d.Ids.Count));
        Assert.Throws<ObjectDisposedException>(() => scheduler.Enqueue([1], Greedy, default));
    }
}
