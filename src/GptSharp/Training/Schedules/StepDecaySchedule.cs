namespace GptSharp.Training.Schedules;

/// <summary>
/// <c>step</c> (torch's StepLR after a warmup): the rate drops by <c>Gamma</c> every <c>StepSize</c> steps:
/// <c>lr = MaxLr · Gamma^⌊(step − W) / StepSize⌋</c>.
/// </summary>
public sealed record StepDecaySchedule(double MaxLr, int WarmupSteps, int StepSize, double Gamma) : ILearningRateSchedule
{
    public double LearningRate(int step) =>
        LinearWarmup.Rate(MaxLr, step, WarmupSteps) ?? MaxLr * Math.Pow(Gamma, (step - WarmupSteps) / StepSize);
}
