namespace GptSharp.Training.Schedules;

/// <summary>The learning rate for each optimizer step. New schedules (constant, linear, step, exponential) implement this
/// and register a name in <see cref="LearningRateSchedules"/>.</summary>
public interface ILearningRateSchedule
{
    /// <summary>The rate for the optimizer step with 0-based index <paramref name="step"/>.</summary>
    double LearningRate(int step);
}
