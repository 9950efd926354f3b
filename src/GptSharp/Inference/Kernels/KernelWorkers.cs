namespace GptSharp.Inference.Kernels;

/// <summary>
/// A persistent worker per core for <see cref="RowDecoder"/>: a token is ~60 small parallel jobs, too many for a task
/// per job (or ONNX Runtime's fork-join per node, ~1 ms of its token). A job is split into chunks that the calling
/// thread and the workers claim one at a time, so a worker the OS has descheduled (another process, the server's HTTP
/// threads; this kernel does not preempt) delays the job by at most the chunk it holds: the caller takes the rest.
/// Workers spin briefly between jobs, then sleep until the next, so an idle engine costs no CPU.
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
    int _chunks, _done;
    /// <summary>The current job's number (high 32 bits) and its next unclaimed chunk (low 32 bits), claimed by
    /// compare-and-swap: a worker that wakes late cannot claim a chunk of a later job with an earlier one's delegate.</summary>
    long _ticket;
    int _generation;
    Exception? _failure;
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

    /// <summary>Threads that work on each job: the calling thread and the workers.</summary>
    public int Count { get; }

    /// <summary>Runs job(0) … job(<paramref name="chunks"/>−1), each once, on the calling thread and the workers, and returns when all are done.</summary>
    public void Run(int chunks, Action<int> job)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunks);
        if (_workers.Length == 0)
        {
            for (int c = 0; c < chunks; c++) job(c);
            return;
        }
        // Close the finished job's ticket before its fields change. A worker that read it after the last chunk was claimed
        // would otherwise compare that index with the next job's chunk count: past a smaller job (attention's chunk per
        // head before a product's 16), it could claim a chunk beyond the end, run it with either job's delegate, and count
        // it done for the next job, which would then return before its last chunk finished.
        Interlocked.Exchange(ref _ticket, ((long)_generation << 32) | int.MaxValue);
        _job = job;
        _chunks = chunks;
        _failure = null;
        Volatile.Write(ref _done, 0);
        int generation = ++_generation;
        Interlocked.Exchange(ref _ticket, (long)generation << 32); // a full fence: the job is visible before its ticket
        foreach (var w in _workers)
            if (Volatile.Read(ref w.Sleeping) != 0) w.Wake.Set();
        Work(generation);
        var spin = new SpinWait();
        while (Volatile.Read(ref _done) < chunks) spin.SpinOnce(sleep1Threshold: -1);
        if (_failure is { } failure) throw new AggregateException(failure);
    }

    /// <summary>Claims and runs chunks of job <paramref name="generation"/> until none is left.</summary>
    void Work(int generation)
    {
        while (true)
        {
            long ticket = Volatile.Read(ref _ticket);
            int chunk = (int)ticket;
            if ((int)(ticket >> 32) != generation || chunk >= _chunks) return;
            if (Interlocked.CompareExchange(ref _ticket, ticket + 1, ticket) != ticket) continue;
            // Claimed: this job cannot end (nor the next begin) before the chunk is counted done.
            try { _job!(chunk); }
            catch (Exception e) { Interlocked.CompareExchange(ref _failure, e, null); }
            Interlocked.Increment(ref _done);
        }
    }

    sealed class Worker
    {
        readonly KernelWorkers _owner;
        public readonly Thread Thread;
        public readonly ManualResetEventSlim Wake = new(false, spinCount: 0);
        public int Sleeping;

        public Worker(KernelWorkers owner, int index)
        {
            _owner = owner;
            Thread = new Thread(Loop) { IsBackground = true, Name = $"gptsharp kernel {index}" };
        }

        void Loop()
        {
            int seen = 0;
            while (true)
            {
                long since = System.Diagnostics.Stopwatch.GetTimestamp();
                while ((int)(Volatile.Read(ref _owner._ticket) >> 32) == seen && !_owner._stopping)
                {
                    if (System.Diagnostics.Stopwatch.GetTimestamp() - since < SpinTicks) { Thread.SpinWait(4); continue; }
                    Wake.Reset();
                    Interlocked.Exchange(ref Sleeping, 1); // a full fence, paired with Run's: one of the two sees the other
                    if ((int)(Volatile.Read(ref _owner._ticket) >> 32) == seen && !_owner._stopping) Wake.Wait();
                    Interlocked.Exchange(ref Sleeping, 0);
                    since = System.Diagnostics.Stopwatch.GetTimestamp();
                }
                if (_owner._stopping) return;
                seen = (int)(Volatile.Read(ref _owner._ticket) >> 32);
                _owner.Work(seen);
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
