using GptSharp.Inference.Kernels;

namespace GptSharp.Tests.Inference.Kernels;

public class KernelWorkersTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void EveryPartRunsOncePerJobAndTheCallerTakesPartZero(int threads)
    {
        using var workers = new KernelWorkers(threads);
        Assert.Equal(threads, workers.Count);
        int caller = Environment.CurrentManagedThreadId;
        for (int job = 0; job < 200; job++)
        {
            var runs = new int[threads];
            int callerPart = -1;
            workers.Run(part =>
            {
                Interlocked.Increment(ref runs[part]);
                if (Environment.CurrentManagedThreadId == caller) callerPart = part;
            });
            Assert.All(runs, r => Assert.Equal(1, r));
            Assert.Equal(0, callerPart);
        }
    }

    [Fact]
    public void WorkersWakeAfterSleepingAndAFailingPartIsReportedAfterTheOthersFinish()
    {
        using var workers = new KernelWorkers(2);
        int done = 0;
        workers.Run(_ => Interlocked.Increment(ref done));
        Thread.Sleep(300); // long past the spinning: the worker sleeps
        workers.Run(_ => Interlocked.Increment(ref done));
        Assert.Equal(4, done);
        var failure = Assert.Throws<AggregateException>(() => workers.Run(part =>
        {
            if (part == 1) throw new InvalidOperationException("part 1");
            Interlocked.Increment(ref done);
        }));
        Assert.Equal("part 1", failure.InnerException!.Message);
        workers.Run(_ => Interlocked.Increment(ref done)); // still usable
        Assert.Equal(7, done);
    }
}
