using GptSharp.Tuning;
using GptSharp.Tuning.Importance;

namespace GptSharp.Tests.Tuning.Importance;

public class ParameterImportanceTests
{
    static FrozenTrial Trial(int number, double value, params (string Name, Distribution Dist, double Internal)[] ps) =>
        new(number, number, TrialState.Complete, value,
            ps.ToDictionary(p => p.Name, p => p.Dist), ps.ToDictionary(p => p.Name, p => p.Internal),
            new Dictionary<int, double>(), new Dictionary<string, string>(), new Dictionary<string, string>(), null, null);

    static readonly FloatDistribution Unit = new(0, 1);

    /// <summary>y = 10·x1 + 0.1·x2 + noise, x3 unused; x ~ U(0,1).</summary>
    static List<FrozenTrial> Linear(int n, int seed)
    {
        var rng = new Random(seed);
        var trials = new List<FrozenTrial>();
        for (int k = 0; k < n; k++)
        {
            double x1 = rng.NextDouble(), x2 = rng.NextDouble(), x3 = rng.NextDouble();
            trials.Add(Trial(k, 10 * x1 + 0.1 * x2 + 0.05 * (rng.NextDouble() - 0.5), ("x1", Unit, x1), ("x2", Unit, x2), ("x3", Unit, x3)));
        }
        return trials;
    }

    [Fact]
    public void TheDominantParameterGetsMostImportanceAndAnUnusedOneNearZero()
    {
        var imp = ParameterImportance.Evaluate(Linear(80, 1), StudyDirection.Minimize);
        Assert.Equal(["x1", "x2", "x3"], imp.Keys.Take(1).Concat(imp.Keys.Skip(1).Order()));
        Assert.Equal("x1", imp.Keys.First()); // ordered, most important first
        Assert.Equal(1.0, imp.Values.Sum(), 9);
        Assert.True(imp["x1"] > 0.95, $"x1: {imp["x1"]}");
        Assert.True(imp["x3"] < 0.03, $"x3: {imp["x3"]}");
        Assert.True(imp["x2"] < 0.03, $"x2: {imp["x2"]}");
    }

    [Fact]
    public void DeterministicForASeedAndTheSameForEitherDirection()
    {
        var trials = Linear(40, 2);
        var a = ParameterImportance.Evaluate(trials, StudyDirection.Minimize, seed: 7);
        var b = ParameterImportance.Evaluate(trials, StudyDirection.Minimize, seed: 7);
        var c = ParameterImportance.Evaluate(trials, StudyDirection.Maximize, seed: 7);
        Assert.Equal(a.ToArray(), b.ToArray());
        Assert.Equal(a.Keys, c.Keys);
        foreach (var (k, v) in a) Assert.Equal(v, c[k], 9);
        var other = ParameterImportance.Evaluate(trials, StudyDirection.Minimize, seed: 8);
        Assert.NotEqual(a["x3"], other["x3"]); // the seed drives the bootstrap samples
    }

    [Fact]
    public void LogScaledAndCategoricalParametersUseTheirInternalScale()
    {
        // The objective depends on the categorical choice and on log10(lr); the int parameter does nothing.
        var lr = new FloatDistribution(1e-5, 1e-1, log: true);
        var opt = new CategoricalDistribution(["adamw", "sgd", "lion"]);
        var layers = new IntDistribution(1, 8);
        var rng = new Random(3);
        var trials = new List<FrozenTrial>();
        for (int k = 0; k < 60; k++)
        {
            double l = Math.Exp(Math.Log(1e-5) + rng.NextDouble() * Math.Log(1e4));
            int o = rng.Next(3), n = rng.Next(1, 9);
            double y = Math.Abs(Math.Log10(l) + 3) + (o == 1 ? 3 : 0);
            trials.Add(Trial(k, y, ("lr", lr, l), ("optimizer", opt, o), ("layers", layers, n)));
        }
        var imp = ParameterImportance.Evaluate(trials, StudyDirection.Minimize);
        Assert.True(imp["layers"] < 0.05, $"layers: {imp["layers"]}");
        // Over the search box (log-uniform lr, uniform choices) the two terms are independent, with variances
        // 9·(1/3)·(2/3) = 2 for the choice and Var|U(-2, 2)| = 1/3 for lr: shares 6/7 and 1/7.
        Assert.True(Math.Abs(imp["optimizer"] - 6.0 / 7) < 0.06, $"optimizer: {imp["optimizer"]}");
        Assert.True(Math.Abs(imp["lr"] - 1.0 / 7) < 0.06, $"lr: {imp["lr"]}");
    }

    [Fact]
    public void TooFewTrialsGiveNothingAndAConstantObjectiveGivesZeros()
    {
        Assert.Empty(ParameterImportance.Evaluate([], StudyDirection.Minimize));
        Assert.Empty(ParameterImportance.Evaluate([Trial(0, 1, ("x", Unit, 0.5))], StudyDirection.Minimize));
        var flat = Enumerable.Range(0, 10).Select(k => Trial(k, 2.0, ("x", Unit, k / 10.0), ("y", Unit, 1 - k / 10.0))).ToList();
        var imp = ParameterImportance.Evaluate(flat, StudyDirection.Minimize);
        Assert.Equal(["x", "y"], imp.Keys);
        Assert.All(imp.Values, v => Assert.Equal(0, v));
    }

    [Fact]
    public void UsesOnlyCompleteTrialsAndParametersCommonToAllOfThemWithMoreThanOneValue()
    {
        var trials = Linear(30, 4);
        var single = new IntDistribution(4, 4);
        trials = trials.Select(t => t with
        {
            Distributions = new Dictionary<string, Distribution>(t.Distributions) { ["fixed"] = single },
            InternalParams = new Dictionary<string, double>(t.InternalParams) { ["fixed"] = 4 },
        }).ToList();
        trials[0] = trials[0] with
        {
            Distributions = new Dictionary<string, Distribution>(trials[0].Distributions) { ["rare"] = Unit },
            InternalParams = new Dictionary<string, double>(trials[0].InternalParams) { ["rare"] = 0.3 },
        };
        trials.Add(trials[1] with { Number = 99, Id = 99, State = TrialState.Pruned, Value = 1e6 });
        var imp = ParameterImportance.Evaluate(trials, StudyDirection.Minimize);
        Assert.Equal(["x1", "x2", "x3"], imp.Keys.Order());
        Assert.True(imp["x1"] > 0.9);
    }

    [Fact]
    public void RejectsBadSettings()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ParameterImportance.Evaluate(Linear(5, 1), StudyDirection.Minimize, trees: 0));
    }
}
