namespace GptSharp.Training.Schedules;

/// <summary>
/// <c>cosine</c>: linear warmup, then cosine decay to <c>MinLr</c> (nanoGPT's schedule):
/// <code>
/// step &lt; W:  lr = MaxLr · (step + 1) / W
/// step ≥ W:  p  = (step − W) / (N − W);  lr = MinLr + ½ (1 + cos πp) (MaxLr − MinLr)
/// </code>
/// </summary>
public sealed record CosineSchedule(double MaxLr, int WarmupSteps, int TotalSteps, double MinLr) : ILearningRateSchedule
{
    public double LearningRate(int step)
    {
        if (LinearWarmup.Rate(MaxLr, step, WarmupSteps) is { } warm) return warm;
        if (step >= TotalSteps) return MinLr;
        double progress = (double)(step - WarmupSteps) / (TotalSteps - WarmupSteps);
        return MinLr + 0.5 * (1 + Math.Cos(Math.PI * progress)) * (MaxLr - MinLr);
    }
}
