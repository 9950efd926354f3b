using GptSharp.Data;
using GptSharp.Data.Shards;
using GptSharp.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Training.Advisors;

/// <summary>
/// The learning-rate range test (Smith 2015, "Cyclical Learning Rates for Training Neural Networks"; fastai's and
/// Lightning's <c>lr_find</c>): one optimizer step per learning rate of an exponential ramp (<see cref="LearningRateRangeOptions"/>),
/// on the job's real batches with the job's optimizer and step (accumulation, clipping, bf16), until the smoothed loss
/// exceeds 4× its best or is not finite. The schedule's warmup and decay do not apply: the ramp is the schedule.
/// The model leaves as it came — same weights, byte for byte, training mode, precision, torch's RNG state, no
/// gradients — and nothing is written.
/// </summary>
public static class LearningRateFinder
{
    /// <summary>On a pretraining job: a fresh model as the run would create it, on random windows of the train split.</summary>
    public static LearningRateRangeResult Run(Pretraining.Plan plan, LearningRateRangeOptions range, IProgress<LearningRatePoint>? progress = null,
        CancellationToken ct = default)
    {
        CheckData(plan);
        using var train = TokenDataset.Open(plan.Options.DataDir, "train");
        using var model = Pretraining.CreateModel(plan);
        return Run(model, plan.Options, Pretraining.TrainBatches(plan, train), range, progress, ct);
    }

    /// <summary>On a fine-tuning job: the plan's model (restored afterwards) on the training conversations' batches.</summary>
    public static LearningRateRangeResult Run(FineTuning.Plan plan, LearningRateRangeOptions range, IProgress<LearningRatePoint>? progress = null,
        CancellationToken ct = default)
    {
        CheckData(plan);
        return Run(plan.Model, plan.Options, FineTuning.TrainBatches(plan), range, progress, ct);
    }

    /// <summary>Throws unless the train split holds one whole batch: per_device_train_batch_size windows of block_size + 1 tokens.</summary>
    public static void CheckData(Pretraining.Plan plan)
    {
        var o = plan.Options;
        long needed = (long)o.PerDeviceTrainBatchSize * o.BlockSize + 1;
        if (plan.Data.Train.Tokens < needed)
            throw new GptSharpException($"data_dir {o.DataDir}: the train split has {plan.Data.Train.Tokens:N0} tokens, fewer than one batch " +
                $"(per_device_train_batch_size {o.PerDeviceTrainBatchSize} × block_size {o.BlockSize} + 1 = {needed:N0}); lower per_device_train_batch_size or block_size");
    }

    /// <summary>Throws unless there are per_device_train_batch_size training conversations (after the validation split).</summary>
    public static void CheckData(FineTuning.Plan plan)
    {
        int batch = plan.Options.PerDeviceTrainBatchSize, have = plan.Train.Examples.Count;
        if (have < batch)
            throw new GptSharpException($"--data: {have} training conversation{(have == 1 ? "" : "s")} after the validation split (val_fraction {plan.Options.ValFraction:G}), " +
                $"fewer than one batch (per_device_train_batch_size {batch}); lower per_device_train_batch_size or val_fraction");
    }

    /// <summary>Runs the test on <paramref name="model"/> with <paramref name="batches"/> and the optimizer and step of <paramref name="options"/>.</summary>
    public static LearningRateRangeResult Run(Gpt model, TrainingArguments options, IBatchSource batches, LearningRateRangeOptions range,
        IProgress<LearningRatePoint>? progress = null, CancellationToken ct = default)
    {
        range.Validate();
        options.Validate();
        var points = new List<LearningRatePoint>(range.Steps);
        var stop = LearningRateRangeStop.Completed;
        using var snapshot = new ModelSnapshot(model);
        try
        {
            torch.random.manual_seed(options.Seed); // dropout draws as a run's would
            model.Precision.ComputeType = options.Bf16 ? ScalarType.BFloat16 : null;
            model.train();
            using var optimizer = TrainingOptimizers.Create(model, options);
            var smoother = new LossSmoother(range.Beta, range.DivergenceFactor, range.Grace);
            for (int i = 0; i < range.Steps; i++)
            {
                ct.ThrowIfCancellationRequested();
                double lr = range.LearningRateAt(i);
                optimizer.LearningRate = lr;
                var (loss, _, _) = Trainer.Step(model, optimizer, batches, options);
                var reason = smoother.Add(loss);
                var point = new LearningRatePoint(i + 1, lr, loss, smoother.Smoothed);
                points.Add(point);
                progress?.Report(point);
                if (reason is { } r)
                {
                    stop = r;
                    break;
                }
            }
        }
        finally
        {
            snapshot.Restore();
        }
        return new LearningRateRangeResult(range, points, stop, LearningRateSuggestions.Suggest(points, range.Steps, range.Beta));
    }
}
