namespace GptSharp.Tuning.Importance;

/// <summary>
/// A CART regression tree (Breiman et al. 1984) fitted by least squares on a bootstrap sample, as one tree of a random
/// forest (Breiman 2001) with scikit-learn's defaults that Optuna's fANOVA uses: every feature considered at each
/// split, split until a node holds one distinct target or <c>maxDepth</c>. Thresholds are midpoints between neighbouring
/// values. Only its leaves are kept, each as a box of the feature space (<see cref="Leaf"/>), which is what fANOVA needs.
/// </summary>
internal sealed class RegressionTree
{
    /// <summary>One leaf: the box [<see cref="Low"/>, <see cref="High"/>] it covers within the bounds, and its prediction.</summary>
    public sealed record Leaf(double[] Low, double[] High, double Value);

    readonly double[][] _x;
    readonly double[] _y;
    readonly int _maxDepth;
    readonly List<Leaf> _leaves = [];

    RegressionTree(double[][] x, double[] y, int maxDepth) => (_x, _y, _maxDepth) = (x, y, maxDepth);

    public IReadOnlyList<Leaf> Leaves => _leaves;

    /// <summary>
    /// Fits a tree to the rows <paramref name="rows"/> (repeats allowed: a bootstrap sample) of features
    /// <paramref name="x"/> (row-major) and targets <paramref name="y"/>; boxes start from [<paramref name="low"/>, <paramref name="high"/>].
    /// </summary>
    public static RegressionTree Fit(double[][] x, double[] y, int[] rows, double[] low, double[] high, int maxDepth)
    {
        var tree = new RegressionTree(x, y, maxDepth);
        tree.Grow(rows, 0, (double[])low.Clone(), (double[])high.Clone());
        return tree;
    }

    void Grow(int[] rows, int depth, double[] low, double[] high)
    {
        double mean = rows.Average(r => _y[r]);
        if (depth >= _maxDepth || rows.Length < 2 || rows.All(r => _y[r] == _y[rows[0]]) || !BestSplit(rows, out int feature, out double threshold))
        {
            _leaves.Add(new Leaf(low, high, mean));
            return;
        }
        int[] left = rows.Where(r => _x[r][feature] <= threshold).ToArray();
        int[] right = rows.Where(r => _x[r][feature] > threshold).ToArray();
        var leftHigh = (double[])high.Clone();
        leftHigh[feature] = threshold;
        var rightLow = (double[])low.Clone();
        rightLow[feature] = threshold;
        Grow(left, depth + 1, (double[])low.Clone(), leftHigh);
        Grow(right, depth + 1, rightLow, (double[])high.Clone());
    }

    /// <summary>The split with the largest drop in squared error (the first feature wins ties); false when no feature varies.</summary>
    bool BestSplit(int[] rows, out int feature, out double threshold)
    {
        (feature, threshold) = (-1, 0);
        int n = rows.Length, features = _x[rows[0]].Length;
        double total = rows.Sum(r => _y[r]), best = total * total / n;
        var keys = new double[n];
        var order = new int[n];
        for (int f = 0; f < features; f++)
        {
            for (int k = 0; k < n; k++) (keys[k], order[k]) = (_x[rows[k]][f], rows[k]);
            Array.Sort(keys, order);
            double sumLeft = 0;
            for (int k = 0; k < n - 1; k++)
            {
                sumLeft += _y[order[k]];
                if (keys[k] == keys[k + 1]) continue;
                double sumRight = total - sumLeft;
                // Minimising the children's squared error = maximising Σ sum²/count.
                double score = sumLeft * sumLeft / (k + 1) + sumRight * sumRight / (n - k - 1);
                if (score > best * (1 + 1e-12) + 1e-300)
                {
                    best = score;
                    feature = f;
                    double mid = keys[k] + (keys[k + 1] - keys[k]) / 2;
                    threshold = mid < keys[k + 1] ? mid : keys[k];
                }
            }
        }
        return feature >= 0;
    }
}
