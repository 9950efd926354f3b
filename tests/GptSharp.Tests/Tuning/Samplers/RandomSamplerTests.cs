using GptSharp.Tuning;
using GptSharp.Tuning.Samplers;
using GptSharp.Tuning.Storages;

namespace GptSharp.Tests.Tuning.Samplers;

public class RandomSamplerTests
{
    [Fact]
    public void ParametersOfOneTrialAreUncorrelatedAndUniform()
    {
        var study = Study.Create("r", new InMemoryStorage(), new RandomSampler(42));
        study.Optimize(t => Enumerable.Range(0, 6).Sum(i => t.SuggestFloat($"x{i}", 0, 1)), nTrials: 400);
        double[][] x = [.. Enumerable.Range(0, 6).Select(i => study.Trials.Select(t => (double)t.Params[$"x{i}"]!).ToArray())];
        for (int i = 0; i < 6; i++)
        {
            Assert.InRange(x[i].Average(), 0.45, 0.55);
            for (int j = 0; j < i; j++) Assert.InRange(Correlation(x[i], x[j]), -0.15, 0.15); // |r| was 0.7 with new Random(hash)
        }
        // Every decile is hit about as often as every other.
        var deciles = x[0].GroupBy(v => (int)(v * 10)).Select(g => g.Count()).ToArray();
        Assert.Equal(10, deciles.Length);
        Assert.All(deciles, c => Assert.InRange(c, 20, 60));
    }

    [Fact]
    public void IntegersCoverTheirRangeAndStepsStayOnTheGrid()
    {
        var seen = new HashSet<long>();
        for (int trial = 0; trial < 300; trial++)
        {
            var rng = RandomSampler.Generator(1, trial, "n");
            long v = (long)RandomSampler.Draw(rng, new IntDistribution(1, 8));
            seen.Add(v);
            double s = RandomSampler.Draw(RandomSampler.Generator(1, trial, "s"), new FloatDistribution(0, 1, step: 0.25));
            Assert.Contains(s, new[] { 0, 0.25, 0.5, 0.75, 1 });
            double lg = RandomSampler.Draw(RandomSampler.Generator(1, trial, "l"), new IntDistribution(1, 1000, log: true));
            Assert.InRange(lg, 1, 1000);
        }
        Assert.Equal(Enumerable.Range(1, 8).Select(i => (long)i), seen.Order());
    }

    static double Correlation(double[] a, double[] b)
    {
        double ma = a.Average(), mb = b.Average();
        double cov = a.Zip(b).Sum(p => (p.First - ma) * (p.Second - mb));
        return cov / Math.Sqrt(a.Sum(v => (v - ma) * (v - ma)) * b.Sum(v => (v - mb) * (v - mb)));
    }
}
