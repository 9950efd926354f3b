using System.Diagnostics;
using GptSharp.Data;
using GptSharp.Data.Dialogues;
using GptSharp.Data.Shards;
using GptSharp.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Training.Advisors;

/// <summary>
/// The largest per-device batch that fits a memory budget (<see cref="BatchSizeSearch"/>: doubling, then binary search),
/// each probe <see cref="BatchSizeOptions.Steps"/> real optimizer steps (<see cref="Trainer.Step(Models.Gpt, TrainingOptimizer, Data.IBatchSource, TrainingArguments)"/>, the job's optimizer,
/// clipping and bf16, one micro-batch per step: accumulation does not change the peak) with a fresh optimizer, so its
/// state counts. Memory is the process's RSS sampled during the probe minus before it (<see cref="MemoryMeters"/>);
/// between probes the model is restored, gradients dropped, scopes disposed, the GC run and the allocator's free pages
/// returned (<see cref="MemoryMeters.Release"/>; each probe records its baseline, so the release is measured). Speed is
/// tokens per second over the steps after the first (the first allocates the optimizer's state). The model leaves as it
/// came — same weights, byte for byte, training mode, precision, torch's RNG state, no gradients — and nothing is written.
/// </summary>
public static class BatchSizeFinder
{
    /// <summary>On a pretraining job: a fresh model as the run would create it, on random windows of the train split.</summary>
    public static BatchSizeResult Run(Pretraining.Plan plan, BatchSizeOptions search, IProgress<BatchSizeProbe>? progress = null, CancellationToken ct = default)
    {
        LearningRateFinder.CheckData(plan with { Options = plan.Options with { PerDeviceTrainBatchSize = 1 } });
        using var train = TokenDataset.Open(plan.Options.DataDir, "train");
        using var model = Pretraining.CreateModel(plan);
        return Run(model, plan.Options, plan.Options.BlockSize,
            b => Pretraining.TrainBatches(plan with { Options = plan.Options with { PerDeviceTrainBatchSize = b } }, train), search, progress: progress, ct: ct);
    }

    /// <summary>
    /// On a fine-tuning job: the plan's model (restored afterwards). Every probe batch holds the longest training
    /// conversations (repeated when there are fewer than the batch), so it is padded to the longest: the worst case.
    /// </summary>
    public static BatchSizeResult Run(FineTuning.Plan plan, BatchSizeOptions search, IProgress<BatchSizeProbe>? progress = null, CancellationToken ct = default)
    {
        var longest = plan.Train.Examples.OrderByDescending(e => e.Ids.Length).ToList();
        if (longest.Count == 0) throw new GptSharpException("--data: no training conversations after the validation split");
        return Run(plan.Model, plan.Options, plan.BlockSize,
            b => new SftBatchSource([.. Enumerable.Range(0, b).Select(i => longest[i % longest.Count])], b, plan.BlockSize, plan.Options.Seed,
                plan.Tokenizer.EndOfTextId), search, progress: progress, ct: ct);
    }

    /// <summary>
    /// Runs the search on <paramref name="model"/>: <paramref name="batchesFor"/> gives a batch source of a given batch size.
    /// <paramref name="meter"/> null takes the process's RSS on CPU and none on CUDA.
    /// </summary>
    public static BatchSizeResult Run(Gpt model, TrainingArguments options, int blockSize, Func<int, IBatchSource> batchesFor, BatchSizeOptions search,
        IMemoryMeter? meter = null, IProgress<BatchSizeProbe>? progress = null, CancellationToken ct = default)
    {
        search.Validate();
        options.Validate();
        bool cuda = model.Device.type == DeviceType.CUDA;
        if (cuda && search.MemoryBudget is not null)
            throw new GptSharpException("--memory-budget cannot be held on CUDA: TorchSharp exposes no CUDA memory statistics; " +
                                        "leave it out and the search stops at the device's out-of-memory error");
        meter ??= cuda ? null : MemoryMeters.ProcessRss();
        long? budget = search.MemoryBudget ?? (meter is null ? null : MemoryMeters.Available());
        if (meter is not null && budget is null)
            throw new GptSharpException("cannot read the free memory (/proc/meminfo): give --memory-budget");
        var step = options with { GradientAccumulationSteps = 1 };
        BatchSizeSearchResult found;
        using (var snapshot = new ModelSnapshot(model))
        {
            try
            {
                // One unmeasured step at batch 1 first: libtorch's one-time allocations (thread pools, kernels) would
                // otherwise count in the first probe's peak.
                Probe(model, step, batchesFor(1), 1, blockSize, 1, null, null, snapshot, ct);
                found = BatchSizeSearch.Run(b =>
                {
                    var p = Probe(model, step, batchesFor(b), b, blockSize, search.Steps, meter, budget, snapshot, ct);
                    progress?.Report(p);
                    return p;
                }, search.MaxBatch, ct);
            }
            finally
            {
                snapshot.Restore();
                MemoryMeters.Release();
            }
        }
        if (found.LargestFit == 0)
        {
            var one = found.Probes[0];
            throw new GptSharpException($"a batch of 1 does not fit: {one.Failure}; " +
                (cuda ? "the model does not train on this device at this block_size" : "raise --memory-budget (or free memory), or lower block_size"));
        }
        var rec = BatchSizeRecommendation.For(options.PerDeviceTrainBatchSize, options.GradientAccumulationSteps, found.LargestFit);
        return new BatchSizeResult(search, found.Probes, found.LargestFit, budget, meter?.Name, blockSize,
            options.PerDeviceTrainBatchSize, options.GradientAccumulationSteps, rec);
    }

    static BatchSizeProbe Probe(Gpt model, TrainingArguments options, IBatchSource batches, int batchSize, int blockSize, int steps,
        IMemoryMeter? meter, long? budget, ModelSnapshot snapshot, CancellationToken ct)
    {
        snapshot.Restore(); // every probe starts from the same weights and RNG
        MemoryMeters.Release();
        using var sampler = meter is null ? null : new PeakSampler(meter);
        string? failure = null;
        double? speed = null;
        try
        {
            torch.random.manual_seed(options.Seed);
            model.Precision.ComputeType = options.Bf16 ? ScalarType.BFloat16 : null;
            model.train();
            using var optimizer = TrainingOptimizers.Create(model, options);
            var watch = new Stopwatch();
            long tokens = 0;
            for (int i = 0; i < steps; i++)
            {
                ct.ThrowIfCancellationRequested();
                if (i == 1 || steps == 1) watch.Restart(); // the first step allocates the optimizer's state: timed only when alone
                var (_, _, t) = Trainer.Step(model, optimizer, batches, options);
                sampler?.Sample();
                if (i >= 1 || steps == 1) tokens += t;
            }
            watch.Stop();
            speed = tokens / Math.Max(watch.Elapsed.TotalSeconds, 1e-9);
        }
        catch (Exception e) when (IsOutOfMemory(e))
        {
            failure = "out of memory: " + e.Message.Split('\n')[0];
        }
        finally
        {
            model.zero_grad();
        }
        long? peak = sampler?.Stop();
        if (failure is null && peak > budget)
            failure = $"peak {MemorySize.Format(peak.Value)} over the budget {MemorySize.Format(budget!.Value)}";
        return new BatchSizeProbe(batchSize, failure is null, peak, failure is null ? speed : null, failure) { BaselineBytes = sampler?.Baseline };
    }

    /// <summary>An allocation failure: .NET's, libtorch's CPU allocator's or CUDA's.</summary>
    public static bool IsOutOfMemory(Exception e) =>
        e is OutOfMemoryException || e.Message.Contains("out of memory", StringComparison.OrdinalIgnoreCase) ||
        e.Message.Contains("can't allocate memory", StringComparison.OrdinalIgnoreCase) ||
        e.Message.Contains("not enough memory", StringComparison.OrdinalIgnoreCase);

    /// <summary>The meter's largest reading above its first (taken at construction), sampled every 2 ms on a thread and on <see cref="Sample"/>.</summary>
    sealed class PeakSampler : IDisposable
    {
        readonly IMemoryMeter _meter;
        readonly long _baseline;
        public long Baseline => _baseline;
        readonly Thread _thread;
        volatile bool _stop;
        long _peak;

        public PeakSampler(IMemoryMeter meter)
        {
            _meter = meter;
            _baseline = meter.CurrentBytes();
            _peak = _baseline;
            _thread = new Thread(() =>
            {
                while (!_stop)
                {
                    Sample();
                    Thread.Sleep(2);
                }
            }) { IsBackground = true, Name = "batch-size memory sampler" };
            _thread.Start();
        }

        public void Sample()
        {
            long now = _meter.CurrentBytes(), seen;
            while (now > (seen = Interlocked.Read(ref _peak)) && Interlocked.CompareExchange(ref _peak, now, seen) != seen) { }
        }

        /// <summary>Stops sampling and returns the peak growth in bytes (never negative).</summary>
        public long Stop()
        {
            if (!_stop)
            {
                _stop = true;
                _thread.Join();
                Sample();
            }
            return Math.Max(0, Interlocked.Read(ref _peak) - _baseline);
        }

        public void Dispose() => Stop();
    }
}
