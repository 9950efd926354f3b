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
    public void AJobWithMoreChunksThanTheOneBeforeRunsEachOnceAndOnlyItsOwn()
    {
        // RowDecoder alternates attention (a chunk per head) with products (16 chunks). A worker preempted between
        // reading the finished job's ticket and its chunk count could claim a chunk past its end once the next, larger
        // job's count was written (Run now closes the ticket first): a delegate run out of its range, and a chunk counted
        // done for the next job, which then returned early. The window is a few instructions, so this stress (more
        // threads than cores, preempted anywhere) guards the contract rather than reproducing that interleaving on demand.
        using var workers = new KernelWorkers(4 * Environment.ProcessorCount);
        int outOfRange = 0;
        for (int job = 0; job < 50_000; job++)
        {
            int chunks = job % 2 == 0 ? 2 : 16;
            var runs = new int[chunks];
            workers.Run(chunks, chunk =>
            {
                if (chunk >= chunks) { Interlocked.Increment(ref outOfRange); return; }
                Thread.SpinWait(20); // long enough that the workers claim chunks too
                Interlocked.Increment(ref runs[chunk]);
            });
            for (int c = 0; c < chunks; c++)
                Assert.True(Volatile.Read(ref runs[c]) == 1, $"job {job}: chunk {c} of {chunks} ran {runs[c]} times by the time Run returned");
        }
        Assert.Equal(0, outOfRange);
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
    public void EachThreadRunsItsOwnRangeFrontToBackThenTakesTheRestOfTheOthersFromTheirBacks()
    {
        using var workers = new KernelWorkers(2);
        int caller = Environment.CurrentManagedThreadId, stalled = -1;
        using var release = new ManualResetEventSlim();
        var byCaller = new List<int>();
        workers.Run(16, chunk =>
        {
            if (Environment.CurrentManagedThreadId == caller)
            {
                // The worker is given time to take its first chunk, and holds it until the caller has run the rest.
                if (chunk == 0) SpinWait.SpinUntil(() => Volatile.Read(ref stalled) >= 0, TimeSpan.FromSeconds(5));
                lock (byCaller) byCaller.Add(chunk);
                if (byCaller.Count == 15) release.Set();
            }
            else if (Interlocked.CompareExchange(ref stalled, chunk, -1) == -1) release.Wait(TimeSpan.FromSeconds(10));
        });
        Assert.Equal(8, stalled); // the front of the worker's range, chunks 8–15
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7, 15, 14, 13, 12, 11, 10, 9], byCaller);
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
