using System.Runtime.InteropServices;

namespace GptSharp.Inference.Kernels;

/// <summary>
/// A persistent worker per core for <see cref="RowDecoder"/>: a token is ~60 small parallel jobs, too many for a task
/// per job (or ONNX Runtime's fork-join per node, ~1 ms of its token). A job's chunks are dealt out in contiguous
/// ranges, one per thread (the calling thread and the workers): each thread claims its own range front to back, so its
/// rows stream as one run of memory with no contention, then takes what is left of the others' from their backs. A worker
/// the OS has descheduled (another process, the server's HTTP threads; this kernel does not preempt) thus delays the
/// job by at most the chunk it holds: the others take the rest. Workers spin briefly between jobs, then sleep until the
/// next, so an idle engine costs no CPU.
/// </summary>
sealed class KernelWorkers : IDisposable
{
    /// <summary>
    /// How long a worker spins for the next job before it sleeps: longer than the gap between two tokens' steps (the
    /// caller picks a token and writes text), short enough not to hold a core from ONNX Runtime's threads when the next
    /// steps run there (the server's batches of several sequences).
    /// </summary>
    static readonly long SpinTicks = System.Diagnostics.Stopwatch.Frequency / 5000; // 200 µs
    const int MaxChunks = ushort.MaxValue;
    readonly Worker[] _workers;
    /// <summary>Thread i's range of the current job: the job's number (high 32 bits), its next chunk from the front
    /// (16 bits) and its end (low 16 bits), claimed by compare-and-swap on the whole word. A worker that wakes late reads
    /// another job's number and claims nothing; bounds and number change together, so no claim can pass a range's end.</summary>
    readonly Range[] _ranges;
    Action<int>? _job;
    int _generation, _published;
    Exception? _failure;
    volatile bool _stopping;

    /// <summary>One range per cache line pair, so that claims in different ranges do not contend; with the chunks its
    /// thread has finished in this job, which only that thread writes (and <see cref="Run"/>, between jobs).</summary>
    [StructLayout(LayoutKind.Explicit, Size = 128)]
    struct Range
    {
        [FieldOffset(64)] public long Word;
        [FieldOffset(72)] public int Done;
    }

    public KernelWorkers(int threads)
    {
        Count = Math.Max(1, threads);
        _ranges = new Range[Count];
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
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chunks, MaxChunks);
        if (_workers.Length == 0)
        {
            for (int c = 0; c < chunks; c++) job(c);
            return;
        }
        // The finished job's ranges are empty, and hold its number: nothing of this one can be claimed before they change.
        _job = job;
        _failure = null;
        long generation = ++_generation;
        for (int i = 0; i < Count; i++)
        {
            long front = (long)chunks * i / Count, end = (long)chunks * (i + 1) / Count;
            _ranges[i].Done = 0;
            Volatile.Write(ref _ranges[i].Word, (generation << 32) | (front << 16) | end);
        }
        Interlocked.Exchange(ref _published, (int)generation); // a full fence: the job and its ranges are visible first
        foreach (var w in _workers)
            if (Volatile.Read(ref w.Sleeping) != 0) w.Wake.Set();
        Work((int)generation, 0);
        var spin = new SpinWait();
        while (Finished() < chunks) spin.SpinOnce(sleep1Threshold: -1);
        if (_failure is { } failure) throw new AggregateException(failure);
    }

    /// <summary>Claims and runs chunks of job <paramref name="generation"/>: its own range's from the front, then the others' from the back.</summary>
    void Work(int generation, int self)
    {
        ref int done = ref _ranges[self].Done;
        for (int k = 0; k < Count; k++)
        {
            int range = (self + k) % Count;
            while (TryClaim(range, generation, fromFront: k == 0, out int chunk))
            {
                // Claimed: this job cannot end (nor the next begin) before the chunk is counted done.
                try { _job!(chunk); }
                catch (Exception e) { Interlocked.CompareExchange(ref _failure, e, null); }
                Volatile.Write(ref done, done + 1); // counted at once: a thread descheduled now delays nothing
            }
        }
    }

    int Finished()
    {
        int sum = 0;
        for (int i = 0; i < _ranges.Length; i++) sum += Volatile.Read(ref _ranges[i].Done);
        return sum;
    }

    bool TryClaim(int range, int generation, bool fromFront, out int chunk)
    {
        ref long word = ref _ranges[range].Word;
        while (true)
        {
            long w = Volatile.Read(ref word);
            int front = (int)((w >> 16) & 0xFFFF), end = (int)(w & 0xFFFF);
            if ((int)(w >> 32) != generation || front >= end)
            {
                chunk = -1;
                return false;
            }
            long next = fromFront ? w + (1L << 16) : w - 1;
            if (Interlocked.CompareExchange(ref word, next, w) == w)
            {
                chunk = fromFront ? front : end - 1;
                return true;
            }
        }
    }

    sealed class Worker
    {
        readonly KernelWorkers _owner;
        readonly int _index;
        public readonly Thread Thread;
        public readonly ManualResetEventSlim Wake = new(false, spinCount: 0);
        public int Sleeping;

        public Worker(KernelWorkers owner, int index)
        {
            (_owner, _index) = (owner, index);
            Thread = new Thread(Loop) { IsBackground = true, Name = $"gptsharp kernel {index}" };
        }

        void Loop()
        {
            int seen = 0;
            while (true)
            {
                long since = System.Diagnostics.Stopwatch.GetTimestamp();
                while (Volatile.Read(ref _owner._published) == seen && !_owner._stopping)
                {
                    if (System.Diagnostics.Stopwatch.GetTimestamp() - since < SpinTicks) { Thread.SpinWait(4); continue; }
                    Wake.Reset();
                    Interlocked.Exchange(ref Sleeping, 1); // a full fence, paired with Run's: one of the two sees the other
                    if (Volatile.Read(ref _owner._published) == seen && !_owner._stopping) Wake.Wait();
                    Interlocked.Exchange(ref Sleeping, 0);
                    since = System.Diagnostics.Stopwatch.GetTimestamp();
                }
                if (_owner._stopping) return;
                seen = Volatile.Read(ref _owner._published);
                _owner.Work(seen, _index);
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
