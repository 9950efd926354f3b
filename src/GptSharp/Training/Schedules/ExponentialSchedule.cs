namespace GptSharp.Training.Schedules;

/// <summary><c>exponential</c> (torch's ExponentialLR after a warmup): <c>lr = MaxLr · Gamma^(step − W)</c>.</summary>
public sealed record ExponentialSchedule(double MaxLr, int WarmupSteps, double Gamma) : ILearningRateSchedule
{
    public double LearningRate(int step) =>
        LinearWarmup.Rate(MaxLr, step, WarmupSteps) ?? MaxLr * Math.Pow(Gamma, step - WarmupSteps);
}
