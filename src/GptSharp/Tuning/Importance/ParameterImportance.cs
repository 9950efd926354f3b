namespace GptSharp.Tuning.Importance;

/// <summary>
/// How much each parameter matters to the objective, by fANOVA (Hutter, Hoos &amp; Leyton-Brown 2014, "An Efficient
/// Approach for Assessing Hyperparameter Importance", ICML), Optuna's default importance evaluator: a random forest of
/// regression trees (<see cref="RegressionTree"/>, bootstrap samples) is fitted to the complete trials, and a
/// parameter's importance is the fraction of each tree's variance over the search space that its main effect explains
/// (<see cref="FunctionalAnova"/>), averaged over the trees and normalised so the importances sum to 1. Only main
/// effects are counted: variance from interactions between parameters is credited to none of them.
/// Parameters are used in their internal form on the scale they are sampled on: the logarithm for log-scaled ones,
/// the choice's index for categoricals (each choice gets an equal share of the box, as a one-hot encoding would). The
/// box is the union of the distributions' ranges; integers and stepped floats get half a step either side.
/// </summary>
public static class ParameterImportance
{
    /// <summary>Trees in the forest (Optuna's fANOVA default).</summary>
    public const int DefaultTrees = 64;

    /// <summary>Deepest a tree grows (Optuna's fANOVA default).</summary>
    public const int DefaultMaxDepth = 64;

    /// <summary>
    /// Each parameter's importance, most important first (ties by name). Uses the complete trials with a finite value,
    /// and the parameters every one of them has, except those with a single possible value. Empty when fewer than two
    /// such trials or no such parameter exist; all zero when the objective is the same in every trial. The
    /// <paramref name="direction"/> does not change the result (variance ignores sign). Deterministic for a
    /// <paramref name="seed"/>.
    /// </summary>
    public static IReadOnlyDictionary<string, double> Evaluate(IReadOnlyList<FrozenTrial> complete, StudyDirection direction,
        int trees = DefaultTrees, int seed = 0, int maxDepth = DefaultMaxDepth)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(trees, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxDepth, 1);
        var used = complete.Where(t => t.State == TrialState.Complete && t.Value is { } v && double.IsFinite(v)).OrderBy(t => t.Number).ToList();
        var result = new OrderedDictionary<string, double>();
        if (used.Count < 2) return result;
        var names = used.Select(t => t.InternalParams.Keys).Aggregate((a, b) => a.Intersect(b)).Order(StringComparer.Ordinal)
            .Where(n => !used.All(t => t.Distributions[n].IsSingle)).ToArray();
        if (names.Length == 0) return result;

        var low = new double[names.Length];
        var high = new double[names.Length];
        Array.Fill(low, double.PositiveInfinity);
        Array.Fill(high, double.NegativeInfinity);
        var x = new double[used.Count][];
        for (int r = 0; r < used.Count; r++)
        {
            x[r] = new double[names.Length];
            for (int j = 0; j < names.Length; j++)
            {
                var dist = used[r].Distributions[names[j]];
                var (lo, hi) = Box(dist);
                (low[j], high[j]) = (Math.Min(low[j], lo), Math.Max(high[j], hi));
                x[r][j] = Transform(dist, used[r].InternalParams[names[j]]);
            }
        }
        for (int r = 0; r < used.Count; r++)
            for (int j = 0; j < names.Length; j++) x[r][j] = Math.Clamp(x[r][j], low[j], high[j]);
        double[] y = used.Select(t => direction.AsLoss(t.Value!.Value)).ToArray();

        var rng = new Random(seed);
        var sum = new double[names.Length];
        int counted = 0;
        for (int k = 0; k < trees; k++)
        {
            int[] rows = new int[used.Count];
            for (int r = 0; r < rows.Length; r++) rows[r] = rng.Next(used.Count);
            var tree = RegressionTree.Fit(x, y, rows, low, high, maxDepth);
            if (FunctionalAnova.MainEffectFractions(tree.Leaves, low, high) is not { } fractions) continue;
            counted++;
            for (int j = 0; j < names.Length; j++) sum[j] += fractions[j];
        }
        double total = sum.Sum();
        foreach (int j in Enumerable.Range(0, names.Length).OrderByDescending(j => sum[j]).ThenBy(j => names[j], StringComparer.Ordinal))
            result[names[j]] = counted > 0 && total > 0 ? sum[j] / total : 0;
        return result;
    }

    /// <summary>The internal value on the scale the parameter is sampled on.</summary>
    static double Transform(Distribution d, double internalValue) =>
        d is FloatDistribution { Log: true } or IntDistribution { Log: true } ? Math.Log(internalValue) : internalValue;

    /// <summary>The parameter's range on that scale, with half a step either side of discrete values.</summary>
    static (double Low, double High) Box(Distribution d) => d switch
    {
        FloatDistribution { Log: true } f => (Math.Log(f.Low), Math.Log(f.High)),
        FloatDistribution { Step: { } s } f => (f.Low - s / 2, f.High + s / 2),
        FloatDistribution f => (f.Low, f.High),
        IntDistribution { Log: true } i => (Math.Log(i.Low - 0.5), Math.Log(i.High + 0.5)),
        IntDistribution i => (i.Low - i.Step / 2.0, i.High + i.Step / 2.0),
        CategoricalDistribution c => (-0.5, c.Choices.Count - 0.5),
        _ => throw new ArgumentException($"unknown distribution {d.GetType().Name}"),
    };
}
