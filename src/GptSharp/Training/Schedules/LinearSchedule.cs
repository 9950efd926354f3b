namespace GptSharp.Training.Schedules;

/// <summary>
/// <c>linear</c> (Hugging Face's default): warmup, then a straight line from MaxLr to 0 at step N:
/// <c>lr = MaxLr · (N − step) / (N − W)</c>.
/// </summary>
public sealed record LinearSchedule(double MaxLr, int WarmupSteps, int TotalSteps) : ILearningRateSchedule
{
    public double LearningRate(int step) =>
        LinearWarmup.Rate(MaxLr, step, WarmupSteps)
        ?? MaxLr * Math.Max(0.0, (double)(TotalSteps - step) / Math.Max(1, TotalSteps - WarmupSteps));
}
