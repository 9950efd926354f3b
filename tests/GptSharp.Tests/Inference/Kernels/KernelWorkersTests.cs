using GptSharp.Inference.Kernels;

namespace GptSharp.Tests.Inference.Kernels;

public class KernelWorkersTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 16)]
    [InlineData(3, 5)]
    public void EveryChunkRunsOncePerJobAndTheCallerWorksToo(int threads, int chunks)
    {
        using var workers = new KernelWorkers(threads);
        Assert.Equal(threads, workers.Count);
        int caller = Environment.CurrentManagedThreadId, byCaller = 0;
        for (int job = 0; job < 200; job++)
        {
            var runs = new int[chunks];
            workers.Run(chunks, chunk =>
            {
                Interlocked.Increment(ref runs[chunk]);
                if (Environment.CurrentManagedThreadId == caller) Interlocked.Increment(ref byCaller);
            });
            Assert.All(runs, r => Assert.Equal(1, r));
        }
        Assert.True(byCaller > 0, "the calling thread ran no chunk");
    }

    [Fact]
    public void AStalledWorkerDelaysAJobByNoMoreThanTheChunkItHolds()
    {
        using var workers = new KernelWorkers(2);
        int caller = Environment.CurrentManagedThreadId, stalled = -1, byCaller = 0;
        using var release = new ManualResetEventSlim();
        var runs = new int[64];
        var clock = System.Diagnostics.Stopwatch.StartNew();
        // The worker's first chunk blocks until the caller has run all the others: the job can only end if the caller
        // takes every chunk the worker does not hold.
        workers.Run(64, chunk =>
        {
            Interlocked.Increment(ref runs[chunk]);
            if (Environment.CurrentManagedThreadId == caller)
            {
                if (Interlocked.Increment(ref byCaller) == 63) release.Set();
            }
            else if (Interlocked.CompareExchange(ref stalled, chunk, -1) == -1) release.Wait(TimeSpan.FromSeconds(10));
        });
        Assert.All(runs, r => Assert.Equal(1, r));
        Assert.Equal(stalled < 0 ? 64 : 63, byCaller);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
    }

    [Fact]
    public void WorkersWakeAfterSleepingAndAFailingChunkIsReportedAfterTheOthersFinish()
    {
        using var workers = new KernelWorkers(2);
        int done = 0;
        workers.Run(2, _ => Interlocked.Increment(ref done));
        Thread.Sleep(300); // long past the spinning: the worker sleeps
        workers.Run(2, _ => Interlocked.Increment(ref done));
        Assert.Equal(4, done);
        var failure = Assert.Throws<AggregateException>(() => workers.Run(8, chunk =>
        {
            if (chunk == 3) throw new InvalidOperationException("chunk 3");
            Interlocked.Increment(ref done);
        }));
        Assert.Equal("chunk 3", failure.InnerException!.Message);
        Assert.Equal(11, done);
        workers.Run(2, _ => Interlocked.Increment(ref done)); // still usable
        Assert.Equal(13, done);
    }
}
