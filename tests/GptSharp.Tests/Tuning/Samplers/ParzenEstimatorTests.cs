using GptSharp.Tuning;
using GptSharp.Tuning.Samplers;

namespace GptSharp.Tests.Tuning.Samplers;

/// <summary>
/// The kernel rules on small cases worked out by hand (comments show the arithmetic); log densities are the values
/// Optuna 3.1.0's <c>_ParzenEstimator.log_pdf</c> gives for the same observations (the default,
/// <see cref="TpeKernelDensity.Optuna31"/>) and, for continuous kernels, those it gives with the −log σ of its truncated
/// normal density restored, as Optuna 3.5 fixed it (<see cref="TpeKernelDensity.Normalized"/>).
/// </summary>
public class ParzenEstimatorTests
{
    static readonly TpeOptions Defaults = new();
    static readonly TpeOptions Normalized = new() { KernelDensity = TpeKernelDensity.Normalized };

    static ParzenEstimator One(Distribution d, double[] observed, TpeOptions? o = null, bool multivariate = false) =>
        new([d], [observed], o ?? Defaults, multivariate);

    static void Near(double[] expected, double[] actual, double tol = 1e-9)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * Math.Max(1, Math.Abs(expected[i])),
            $"[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
    }

    static double[] LogPdf(ParzenEstimator pe, params double[] xs) => pe.LogPdf([.. xs.Select(x => new[] { x })]);

    [Fact]
    public void UnivariateWidthsAreTheLargerNeighbourGapWithThePriorAmongTheMeansThenMagicClipped()
    {
        // [0, 100], observations 10, 20, 60; prior mean 50. Sorted means with the ends: 0 | 10 20 50 60 | 100.
        // 20: max(10, 30) = 30. Without endpoints the outermost take their inner gap: 10 -> 10, 60 -> 10.
        // Magic clip: min σ = 100 / min(100, 1 + 4 kernels) = 20, so 10 -> 20. The prior's σ is the range.
        var pe = One(new FloatDistribution(0, 100), [10, 20, 60]);
        Near([10, 20, 60, 50], pe.Mus(0));
        Near([20, 30, 20, 100], pe.Sigmas(0));
        Near([0.25, 0.25, 0.25, 0.25], pe.Weights);
        Near([-0.7642849692910296, -0.6440199782742749, -0.7567878441894551, -1.3962617900275625], LogPdf(pe, 0, 15, 42.5, 100));
        Near([-4.398202335436259, -4.250635662220976, -4.4756945640208645, -5.770541621743276],
            LogPdf(One(new FloatDistribution(0, 100), [10, 20, 60], Normalized), 0, 15, 42.5, 100));

        Near([10, 30, 10, 100], One(new FloatDistribution(0, 100), [10, 20, 60], Defaults with { ConsiderMagicClip = false }).Sigmas(0));
        // With endpoints, 60's right neighbour is 100: max(10, 40) = 40; 10's is max(10 - 0, 20 - 10) = 10 -> clip 20.
        Near([20, 30, 40, 100], One(new FloatDistribution(0, 100), [10, 20, 60], Defaults with { ConsiderEndpoints = true }).Sigmas(0));
    }

    [Fact]
    public void IntegersAreBinsOfAHalfStepExtendedRange()
    {
        // [0, 10] step 1 -> [-0.5, 10.5], range 11; means 3 and the prior 5; both gaps 2; clip 11 / 3.
        var pe = One(new IntDistribution(0, 10), [3]);
        Assert.Equal((-0.5, 10.5), pe.Bounds(0));
        Near([3, 5], pe.Mus(0));
        Near([11 / 3.0, 11], pe.Sigmas(0));
        Near([-2.3999475956528626, -2.1755646706283356, -2.9253468797917748], LogPdf(pe, 0, 3, 10));
    }

    [Fact]
    public void FloatStepsAreBinsToo()
    {
        // [0, 1.5] step 0.5 -> [-0.25, 1.75], range 2; means 0.5, 1.0, prior 0.75; gaps 0.25; clip 2 / 4 = 0.5.
        var pe = One(new FloatDistribution(0, 1.5, step: 0.5), [0.5, 1.0]);
        Near([0.5, 1.0, 0.75], pe.Mus(0));
        Near([0.5, 0.5, 2.0], pe.Sigmas(0));
        Near([-1.6635908624901479, -1.1694343227752322, -1.6635908624901479], LogPdf(pe, 0, 0.5, 1.5));
    }

    [Fact]
    public void LogScalesAreModelledInLogSpace()
    {
        // [1, 100] log -> [0, ln 100]; the observation 10 sits on the prior mean ln 10: gap 0, clipped to ln 100 / 3.
        var pe = One(new FloatDistribution(1, 100, log: true), [10]);
        Near([Math.Log(10), Math.Log(10)], pe.Mus(0));
        Near([Math.Log(100) / 3, Math.Log(100)], pe.Sigmas(0));
        Near([-0.6265145659312091, -0.2861523580637727, -0.47331024033234326], LogPdf(pe, 1, 10, 50));
        Near([-1.907060009884511, -1.335225021123118, -1.6451730176252808], LogPdf(One(new FloatDistribution(1, 100, log: true), [10], Normalized), 1, 10, 50));

        // Log ints: a continuous kernel on [ln 0.5, ln 64.5].
        var pi = One(new IntDistribution(1, 64, log: true), [4]);
        Assert.Equal((Math.Log(0.5), Math.Log(64.5)), pi.Bounds(0));
        Near([Math.Log(4), 0.5 * (Math.Log(0.5) + Math.Log(64.5))], pi.Mus(0));
        Near([-0.4307541042243061, -0.2847129100619776, -0.6658150979464476], LogPdf(pi, 1, 4, 64));
        Near([-1.608704213331741, -1.3841451582352358, -2.0567520423265897], LogPdf(One(new IntDistribution(1, 64, log: true), [4], Normalized), 1, 4, 64));
    }

    [Fact]
    public void CategoricalKernelsSmoothEachObservedChoiceByThePriorWeight()
    {
        // 3 choices, observed a and c, prior weight 1: each cell 1/(n+1) = 1/3, +1 on the observed choice, rows normalised.
        var pe = One(new CategoricalDistribution(["a", "b", "c"]), [0, 2]);
        var w = pe.CategoricalWeights(0);
        Near([2 / 3.0, 1 / 6.0, 1 / 6.0], w[0]);
        Near([1 / 6.0, 1 / 6.0, 2 / 3.0], w[1]);
        Near([1 / 3.0, 1 / 3.0, 1 / 3.0], w[2]);
        Near([-0.9444616088408513, -1.5040773967762742, -0.9444616088408513], LogPdf(pe, 0, 1, 2));
        // A larger prior weight flattens them: (1 + 3/3) / (1 + 3) = 0.5 on the observed choice.
        Assert.Equal(0.5, One(new CategoricalDistribution(["a", "b", "c"]), [0, 2], Defaults with { PriorWeight = 3 }).CategoricalWeights(0)[0][0], 12);
    }

    [Fact]
    public void MultivariateWidthsFollowScottsRule()
    {
        // σ = 0.2 · n^(-1/(d+4)) · range = 0.2 · 4^(-1/5) for 4 observations of one parameter (magic clip off).
        var pe = One(new FloatDistribution(0, 1), [0.2, 0.4, 0.7, 0.9], Defaults with { ConsiderMagicClip = false }, multivariate: true);
        Near([.. Enumerable.Repeat(0.2 * Math.Pow(4, -0.2), 4), 1.0], pe.Sigmas(0));
        Near([-1.1308743499734697], LogPdf(pe, 0.5));
        Near([-0.037674574745123035], LogPdf(One(new FloatDistribution(0, 1), [0.2, 0.4, 0.7, 0.9], Normalized with { ConsiderMagicClip = false }, multivariate: true), 0.5));

        // Two parameters, a float and a categorical, product kernels: 0.2 · 2^(-1/6) = 0.178 is clipped to 1 / (1 + 3) = 0.25.
        var space = new Distribution[] { new FloatDistribution(0, 1), new CategoricalDistribution(["a", "b", "c"]) };
        var joint = new ParzenEstimator(space, [[0.1, 0.9], [0, 2]], Defaults, multivariate: true);
        Near([0.25, 0.25, 1.0], joint.Sigmas(0));
        Near([-1.4173472510504628, -2.005690677606769], joint.LogPdf([[0.1, 0], [0.5, 1]]));
        Near([-0.43255703361694264, -1.6555187202403046], new ParzenEstimator(space, [[0.1, 0.9], [0, 2]], Normalized, multivariate: true).LogPdf([[0.1, 0], [0.5, 1]]));
    }

    [Fact]
    public void WithoutObservationsOnlyThePriorRemainsAndFarTailsStayFinite()
    {
        var prior = One(new FloatDistribution(0, 1), []);
        Near([1.0], prior.Weights);
        Near([0.04097780049094957], LogPdf(prior, 0.5)); // σ = 1: both densities agree

        // σ = 1 around 0 and the point 1000: the bin's mass is about e^-500000, still a finite log.
        var far = One(new IntDistribution(0, 1000), [0, 1], Defaults with { ConsiderMagicClip = false });
        Near([-7.8719376933546785, -3.504040765129595], LogPdf(far, 1000, 2));
    }

    [Fact]
    public void DefaultWeightsRampTheOldestFrom25On()
    {
        Assert.Equal(Enumerable.Repeat(1.0, 24), TpeOptions.DefaultWeights(24));
        Near([1 / 30.0, 0.275, 0.5166666666666667, 0.7583333333333333, 1.0, .. Enumerable.Repeat(1.0, 25)], TpeOptions.DefaultWeights(30));
        var pe = One(new FloatDistribution(0, 1), [.. Enumerable.Range(0, 30).Select(i => i / 30.0)]);
        Assert.Equal(31, pe.Weights.Length);
        Assert.True(pe.Weights[0] < pe.Weights[29] / 20); // the oldest observation weighs 1/30 of the newest
    }

    [Fact]
    public void SamplesLieInTheDistributionOnItsGrid()
    {
        var space = new Distribution[]
        {
            new FloatDistribution(1e-5, 1e-1, log: true), new FloatDistribution(0, 1, step: 0.1), new IntDistribution(1, 9, step: 2),
            new IntDistribution(1, 1024, log: true), new CategoricalDistribution(["x", "y"]), new FloatDistribution(-2, 3),
        };
        double[][] obs = [[1e-5, 0.1], [0, 1], [1, 9], [1, 1024], [0, 1], [-2, 3]];
        var pe = new ParzenEstimator(space, obs, Defaults, multivariate: false);
        var rng = new Random(5);
        foreach (var p in pe.Sample(rng, 2000))
            for (int d = 0; d < space.Length; d++)
                Assert.True(space[d].Contains(p[d]), $"{p[d]:R} outside {space[d].ToJsonString()}");
    }
}
