using GptSharp.Checkpoints;
using GptSharp.Inference;
using GptSharp.Server.Scheduling;

namespace GptSharp.Tests.Server.Scheduling;

/// <summary>The first scheduler: one sequence at a time per model, a bounded queue, cancellation.</summary>
[Collection(nameof(ServerCollection))]
public class SequentialSchedulerTests(ServerModels models)
{
    static readonly GenerationOptions Greedy = new() { DoSample = false, MaxNewTokens = 3 };

    [Fact]
    public async Task SequencesRunInTurnAndAgreeWithTheGenerator()
    {
        using var dir = ModelDirectory.Load(models.La);
        var generator = dir.CreateGenerator();
        await using var scheduler = new SequentialScheduler(generator, "la", maxQueue: 4);
        int[] prompt = ServerModels.Gpt2.Encode("Hello");
        var a = scheduler.Enqueue(prompt, Greedy, default);
        var b = scheduler.Enqueue(prompt, Greedy with { MaxNewTokens = 2 }, default);
        string expected = generator.Complete(prompt, Greedy).Text!;
        var textA = string.Concat(await a.ReadAllAsync().Select(d => d.Text).ToListAsync());
        var deltasB = await b.ReadAllAsync().ToListAsync();
        Assert.Equal(expected, textA);
        Assert.Equal(" la la", string.Concat(deltasB.Select(d => d.Text)));
        Assert.Equal(FinishReason.Length, deltasB[^1].FinishReason);
        Assert.Equal(0, scheduler.QueueLength);
        Assert.Equal(0, scheduler.ActiveSequences);
    }

    [Fact]
    public async Task AFullQueueRefusesAndACancelledSequenceThrows()
    {
        using var dir = ModelDirectory.Load(models.La);
        await using var scheduler = new SequentialScheduler(dir.CreateGenerator(), "la", maxQueue: 0);
        using var cancel = new CancellationTokenSource();
        // A long sequence holds the only place (one running, none waiting) while the next asks.
        var running = scheduler.Enqueue(ServerModels.Gpt2.Encode("Hello"), Greedy with { MaxNewTokens = 60 }, cancel.Token);
        Assert.Throws<QueueFullException>(() => scheduler.Enqueue([1], Greedy, default));
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => { await foreach (var _ in running.ReadAllAsync()) { } });
        // Its place is free again.
        for (int i = 0; i < 200 && scheduler.QueueLength + scheduler.ActiveSequences > 0; i++) await Task.Delay(10);
        var next = scheduler.Enqueue([1], Greedy, default);
        Assert.Equal(3, (await next.ReadAllAsync().ToListAsync()).Sum(d => d.Ids.Count));
    }
}
