namespace GptSharp.Tuning.Samplers;

/// <summary>
/// Independent uniform draws (Bergstra &amp; Bengio 2012, "Random search for hyper-parameter optimization"): uniform in
/// range, log-uniform on a log scale, uniform over the step grid, uniform over choices. Each draw comes from a generator
/// seeded by (seed, trial number, parameter name), so a study is reproducible from its seed and two workers with the
/// same seed never draw the same point for different trials.
/// </summary>
public sealed class RandomSampler(int? seed = null) : ISampler
{
    readonly int _seed = seed ?? Random.Shared.Next();

    public double SampleIndependent(Study study, FrozenTrial trial, string name, Distribution distribution) =>
        Draw(Generator(_seed, trial.Number, name), distribution);

    /// <summary>A generator for one (seed, trial, parameter) triple; stable across processes and runs (<see cref="SeededRandom"/>).</summary>
    public static Random Generator(int seed, int trialNumber, string name) => new SeededRandom(seed, trialNumber, name);

    /// <summary>One uniform draw (internal value) from <paramref name="distribution"/>.</summary>
    public static double Draw(Random rng, Distribution distribution)
    {
        switch (distribution)
        {
            case FloatDistribution { Step: { } step } f:
                return f.Low + step * rng.NextInt64(0, (long)Math.Round((f.High - f.Low) / step) + 1);
            case FloatDistribution { Log: true } f:
                return Math.Min(f.High, Math.Max(f.Low, Math.Exp(Math.Log(f.Low) + rng.NextDouble() * (Math.Log(f.High) - Math.Log(f.Low)))));
            case FloatDistribution f:
                return Math.Min(f.High, f.Low + rng.NextDouble() * (f.High - f.Low));
            case IntDistribution { Log: true } i:
            {
                // Log-uniform over [low - 0.5, high + 0.5], rounded: each integer gets the log-width of its cell.
                double lo = Math.Log(i.Low - 0.5), hi = Math.Log(i.High + 0.5);
                return Math.Clamp(Math.Round(Math.Exp(lo + rng.NextDouble() * (hi - lo))), i.Low, i.High);
            }
            case IntDistribution i:
                return i.Low + i.Step * rng.NextInt64(0, (i.High - i.Low) / i.Step + 1);
            case CategoricalDistribution c:
                return rng.Next(c.Choices.Count);
            default:
                throw new ArgumentException($"unknown distribution {distribution.GetType().Name}");
        }
    }
}
