namespace GptSharp.Tuning.Importance;

/// <summary>
/// Functional ANOVA of one regression tree (Hutter, Hoos &amp; Leyton-Brown 2014, "An Efficient Approach for Assessing
/// Hyperparameter Importance", ICML): under the uniform measure on the search box, the tree's prediction has variance V;
/// the main effect of feature i is the marginal prediction m_i(x_i) (the mean over all other features) and its variance
/// V_i is the part of V that feature i explains alone. A tree is piecewise constant on boxes, so both are exact sums:
/// m_i is constant between the tree's split points on feature i, and each leaf adds its value times its volume in the
/// other dimensions to the cells its interval covers.
/// </summary>
internal static class FunctionalAnova
{
    /// <summary>V_i / V for each feature, or null when the tree is constant (V = 0).</summary>
    public static double[]? MainEffectFractions(IReadOnlyList<RegressionTree.Leaf> leaves, double[] low, double[] high)
    {
        int d = low.Length;
        var volume = new double[leaves.Count];
        double mean = 0;
        for (int l = 0; l < leaves.Count; l++)
        {
            volume[l] = 1;
            for (int j = 0; j < d; j++) volume[l] *= Width(leaves[l], j, low, high);
            mean += volume[l] * leaves[l].Value;
        }
        double variance = 0;
        for (int l = 0; l < leaves.Count; l++) variance += volume[l] * Square(leaves[l].Value - mean);
        if (!(variance > 1e-12 * Math.Max(1, mean * mean))) return null;

        var fractions = new double[d];
        for (int i = 0; i < d; i++)
        {
            if (!(high[i] > low[i])) continue;
            double[] cuts = leaves.SelectMany(l => new[] { l.Low[i], l.High[i] }).Distinct().Order().ToArray();
            // Difference array over cells [cuts[c], cuts[c+1]): each leaf adds value × (volume in the other dimensions).
            var delta = new double[cuts.Length];
            for (int l = 0; l < leaves.Count; l++)
            {
                double w = Width(leaves[l], i, low, high);
                if (w <= 0) continue;
                double contribution = leaves[l].Value * volume[l] / w;
                delta[Array.BinarySearch(cuts, leaves[l].Low[i])] += contribution;
                delta[Array.BinarySearch(cuts, leaves[l].High[i])] -= contribution;
            }
            double marginal = 0, vi = 0;
            for (int c = 0; c < cuts.Length - 1; c++)
            {
                marginal += delta[c];
                vi += (cuts[c + 1] - cuts[c]) / (high[i] - low[i]) * Square(marginal - mean);
            }
            fractions[i] = Math.Clamp(vi / variance, 0, 1);
        }
        return fractions;
    }

    /// <summary>The leaf's share of the range of feature <paramref name="j"/> (1 for a feature of zero range).</summary>
    static double Width(RegressionTree.Leaf leaf, int j, double[] low, double[] high) =>
        high[j] > low[j] ? (leaf.High[j] - leaf.Low[j]) / (high[j] - low[j]) : 1;

    static double Square(double v) => v * v;
}
