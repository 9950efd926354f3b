namespace GptSharp.Training.Advisors;

/// <summary>
/// A per-device batch and the gradient_accumulation_steps that keep the job's effective batch (sequences per optimizer
/// update, <see cref="EffectiveBatch"/> = per_device_train_batch_size × gradient_accumulation_steps) and so its tokens per update.
/// </summary>
public sealed record BatchSizeRecommendation(int PerDeviceTrainBatchSize, int GradientAccumulationSteps, int EffectiveBatch)
{
    /// <summary>
    /// The largest batch that fits (≤ <paramref name="largestFit"/>) and divides the job's effective batch, with the
    /// accumulation that multiplies it back to the effective batch. 1 always divides, so there is always an answer.
    /// </summary>
    public static BatchSizeRecommendation For(int perDeviceTrainBatchSize, int gradientAccumulationSteps, int largestFit)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(perDeviceTrainBatchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(gradientAccumulationSteps, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(largestFit, 1);
        int effective = checked(perDeviceTrainBatchSize * gradientAccumulationSteps);
        for (int b = Math.Min(largestFit, effective); b > 1; b--)
            if (effective % b == 0) return new BatchSizeRecommendation(b, effective / b, effective);
        return new BatchSizeRecommendation(1, effective, effective);
    }
}
