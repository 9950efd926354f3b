namespace GptSharp.Training.Schedules;

/// <summary>
/// The warmup every warming schedule shares: <c>lr = MaxLr · (step + 1) / W</c> for <c>step &lt; W</c>, so the first
/// step already moves (Hugging Face's starts at 0) and the last warmup step reaches MaxLr.
/// </summary>
public static class LinearWarmup
{
    /// <summary>The warmup rate at <paramref name="step"/>, or null once warmup is over.</summary>
    public static double? Rate(double maxLr, int step, int warmupSteps) =>
        step < warmupSteps ? maxLr * (step + 1) / warmupSteps : null;
}
