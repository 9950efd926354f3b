namespace GptSharp.Training;

/// <summary>
/// Linear warmup, then cosine decay to <c>MinLr</c> (nanoGPT's schedule):
/// <code>
/// step &lt; W:  lr = MaxLr · (step + 1) / W
/// step ≥ W:  p  = (step − W) / (N − W);  lr = MinLr + ½ (1 + cos πp) (MaxLr − MinLr)
/// </code>
/// The warmup's first step already moves (Hugging Face's starts at 0); its last reaches MaxLr.
/// </summary>
public sealed record CosineSchedule(double MaxLr, int WarmupSteps, int TotalSteps, double MinLr) : ILearningRateSchedule
{
    public double LearningRate(int step)
    {
        if (step < WarmupSteps) return MaxLr * (step + 1) / WarmupSteps;
        if (step >= TotalSteps) return MinLr;
        double progress = (double)(step - WarmupSteps) / (TotalSteps - WarmupSteps);
        return MinLr + 0.5 * (1 + Math.Cos(Math.PI * progress)) * (MaxLr - MinLr);
    }
}
