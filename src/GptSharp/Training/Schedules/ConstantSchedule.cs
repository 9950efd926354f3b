namespace GptSharp.Training.Schedules;

/// <summary><c>constant</c>: the same rate at every step; warmup settings are ignored (as Hugging Face's).</summary>
public sealed record ConstantSchedule(double Lr) : ILearningRateSchedule
{
    public double LearningRate(int step) => Lr;
}
