namespace GptSharp.Training.Advisors;

/// <summary>
/// The learning-rate range test's ramp (Smith 2015, fastai's and Lightning's lr_find): <see cref="Steps"/> optimizer
/// steps whose learning rate grows exponentially from <see cref="Start"/> to <see cref="End"/>; the loss is smoothed with
/// a bias-corrected exponential average of factor <see cref="Beta"/>, and the test stops once the smoothed loss exceeds
/// <see cref="DivergenceFactor"/> times its best.
/// </summary>
public sealed record LearningRateRangeOptions
{
    public const int MinSteps = 10;
    public double Start { get; init; } = 1e-7;
    public double End { get; init; } = 10;
    public int Steps { get; init; } = 100;
    public double Beta { get; init; } = 0.98;
    public double DivergenceFactor { get; init; } = 4;

    /// <summary>Throws, naming the option (as the CLI spells it), unless the ramp makes sense.</summary>
    public LearningRateRangeOptions Validate()
    {
        if (!(Start > 0) || !double.IsFinite(Start)) throw new GptSharpException($"--start must be a positive number (got {Start:G})");
        if (!double.IsFinite(End)) throw new GptSharpException($"--end must be a finite number (got {End:G})");
        if (Start >= End) throw new GptSharpException($"--start ({Start:G}) must be below --end ({End:G})");
        if (Steps < MinSteps) throw new GptSharpException($"--steps must be at least {MinSteps} (got {Steps}): fewer points cannot show where the loss falls");
        if (!(Beta >= 0 && Beta < 1)) throw new GptSharpException($"beta must be in [0, 1) (got {Beta:G})");
        if (!(DivergenceFactor > 1)) throw new GptSharpException($"the divergence factor must be above 1 (got {DivergenceFactor:G})");
        return this;
    }

    /// <summary>Steps before the divergence rule applies: the first tenth, which the suggestions skip too.</summary>
    public int Grace => Steps / 10;

    /// <summary>Step <paramref name="i"/>'s learning rate (0-based): Start·(End/Start)^(i/(Steps−1)), so the last step is at End.</summary>
    public double LearningRateAt(int i) => Start * Math.Pow(End / Start, (double)i / (Steps - 1));
}
