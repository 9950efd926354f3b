using GptSharp.Training.Schedules;
namespace GptSharp.Training;

/// <summary>The schedules <c>lr_scheduler_type</c> can name.</summary>
public static class LearningRateSchedules
{
    /// <summary>Builds a schedule from the options, the run's total steps and its warmup steps (both resolved).</summary>
    delegate ILearningRateSchedule Factory(TrainingArguments o, int maxSteps, int warmup);

    static readonly Dictionary<string, Factory> Factories = new()
    {
        ["constant"] = (o, _, _) => new ConstantSchedule(o.LearningRate),
        ["constant_with_warmup"] = (o, _, w) => new ConstantWithWarmupSchedule(o.LearningRate, w),
        ["step"] = (o, _, w) => new StepDecaySchedule(o.LearningRate, w, o.StepSize ?? 1, o.Gamma),
        ["exponential"] = (o, _, w) => new ExponentialSchedule(o.LearningRate, w, o.Gamma),
        ["linear"] = (o, n, w) => new LinearSchedule(o.LearningRate, w, n),
        ["cosine"] = (o, n, w) => new CosineSchedule(o.LearningRate, w, n, o.LearningRate * o.MinLrRatio),
    };

    public static IReadOnlyCollection<string> Names => Factories.Keys;

    /// <summary>The schedule for a run of <paramref name="maxSteps"/> optimizer steps (see <see cref="TrainingArguments.ResolveMaxSteps"/>).</summary>
    public static ILearningRateSchedule Create(TrainingArguments options, int maxSteps) =>
        Factories.TryGetValue(options.LrSchedulerType, out var f) ? f(options, maxSteps, options.ResolveWarmupSteps(maxSteps))
            : throw new GptSharpException($"unknown lr_scheduler_type '{options.LrSchedulerType}' (expected one of: {string.Join(", ", Names)})");

    /// <summary>The schedule for a run whose length is <c>max_steps</c>.</summary>
    public static ILearningRateSchedule Create(TrainingArguments options) => Create(options, options.MaxSteps);
}
