namespace GptSharp.Training;

/// <summary>The schedules <c>lr_scheduler_type</c> can name.</summary>
public static class LearningRateSchedules
{
    static readonly Dictionary<string, Func<TrainingOptions, ILearningRateSchedule>> Factories = new()
    {
        ["cosine"] = o => new CosineSchedule(o.LearningRate, o.WarmupSteps, o.MaxSteps, o.LearningRate * o.MinLrRatio),
    };

    public static IReadOnlyCollection<string> Names => Factories.Keys;

    public static ILearningRateSchedule Create(TrainingOptions options) =>
        Factories.TryGetValue(options.LrSchedulerType, out var f) ? f(options)
            : throw new GptSharpException($"unknown lr_scheduler_type '{options.LrSchedulerType}' (expected one of: {string.Join(", ", Names)})");
}
