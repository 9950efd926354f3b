namespace GptSharp.Inference.Kernels;

/// <summary>
/// A persistent worker per core for <see cref="RowDecoder"/>: a token is ~60 small parallel steps, too many for a task
/// per step (or ONNX Runtime's fork-join per node, ~1 ms of its token). The calling thread takes part 0 of each job; the
/// others spin for a while between jobs, then sleep until the next, so an idle engine costs no CPU.
/// </summary>
sealed class KernelWorkers : IDisposable
{
    /// <summary>
    /// How long a worker spins for the next job before it sleeps: longer than the gap between two tokens' steps (the
    /// caller picks a token and writes text), short enough not to hold a core from ONNX Runtime's threads when the next
    /// steps run there (the server's batches of several sequences).
    /// </summary>
    static readonly long SpinTicks = System.Diagnostics.Stopwatch.Frequency / 5000; // 200 µs
    readonly Worker[] _workers;
    Action<int>? _job;
    int _generation, _pending;
    volatile bool _stopping;

    public KernelWorkers(int threads)
    {
        Count = Math.Max(1, threads);
        _workers = new Worker[Count - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Worker(this, i + 1);
            _workers[i].Thread.Start();
        }
    }

    /// <summary>Parts each job is split into: the calling thread and the workers.</summary>
    public int Count { get; }

    /// <summary>Runs job(0) … job(Count−1) at once, part 0 on the calling thread, and returns when all are done.</summary>
    public void Run(Action<int> job)
    {
        if (_workers.Length == 0)
        {
            job(0);
            return;
        }
        _job = job;
        Volatile.Write(ref _pending, _workers.Length);
        Interlocked.Increment(ref _generation); // a full fence: the job is visible before the new generation
        foreach (var w in _workers)
            if (Volatile.Read(ref w.Sleeping) != 0) w.Wake.Set();
        Exception? failure = null;
        try { job(0); }
        catch (Exception e) { failure = e; }
        var spin = new SpinWait();
        while (Volatile.Read(ref _pending) > 0) spin.SpinOnce(sleep1Threshold: -1);
        foreach (var w in _workers)
            if (w.Failure is { } f) { w.Failure = null; failure ??= f; }
        if (failure is not null) throw new AggregateException(failure);
    }

    sealed class Worker
    {
        readonly KernelWorkers _owner;
        readonly int _part;
        public readonly Thread Thread;
        public readonly ManualResetEventSlim Wake = new(false, spinCount: 0);
        public int Sleeping;
        public Exception? Failure;

        public Worker(KernelWorkers owner, int part)
        {
            (_owner, _part) = (owner, part);
            Thread = new Thread(Loop) { IsBackground = true, Name = $"gptsharp kernel {part}" };
        }

        void Loop()
        {
            int seen = 0;
            while (true)
            {
                long since = System.Diagnostics.Stopwatch.GetTimestamp();
                while (Volatile.Read(ref _owner._generation) == seen && !_owner._stopping)
                {
                    if (System.Diagnostics.Stopwatch.GetTimestamp() - since < SpinTicks) { Thread.SpinWait(4); continue; }
                    Wake.Reset();
                    Interlocked.Exchange(ref Sleeping, 1); // a full fence, paired with Run's: one of the two sees the other
                    if (Volatile.Read(ref _owner._generation) == seen && !_owner._stopping) Wake.Wait();
                    Interlocked.Exchange(ref Sleeping, 0);
                    since = System.Diagnostics.Stopwatch.GetTimestamp();
                }
                if (_owner._stopping) return;
                seen = Volatile.Read(ref _owner._generation);
                try { _owner._job!(_part); }
                catch (Exception e) { Failure = e; }
                Interlocked.Decrement(ref _owner._pending);
            }
        }
    }

    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        foreach (var w in _workers)
        {
            w.Wake.Set();
            w.Thread.Join();
            w.Wake.Dispose();
        }
    }
}
