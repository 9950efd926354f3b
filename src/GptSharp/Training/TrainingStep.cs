namespace GptSharp.Training;

/// <summary>One finished optimizer step, as the <see cref="Trainer"/> hands it to <see cref="TrainerCallback.OnStepEnd"/>.</summary>
/// <param name="Loss">The step's training loss (mean over its micro-batches).</param>
/// <param name="GradNorm">The global gradient norm before clipping; null with max_grad_norm 0.</param>
/// <param name="TokensPerSecond">Training tokens per second since the last logging step (evaluation and saving excluded).</param>
/// <param name="Logged">True on logging steps (every logging_steps, and the last).</param>
public sealed record TrainingStep(int Step, double Loss, double LearningRate, double? GradNorm, long Tokens, double TokensPerSecond, TimeSpan Eta, bool Logged)
{
    /// <summary>The step's batch: micro-batch × accumulation (batch_size_schedule changes it during a run).</summary>
    public BatchShape Batch { get; init; }
}
