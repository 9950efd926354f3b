namespace GptSharp.Training.Schedules;

/// <summary><c>constant_with_warmup</c>: warmup, then MaxLr for the rest of the run.</summary>
public sealed record ConstantWithWarmupSchedule(double MaxLr, int WarmupSteps) : ILearningRateSchedule
{
    public double LearningRate(int step) => LinearWarmup.Rate(MaxLr, step, WarmupSteps) ?? MaxLr;
}
