namespace GptSharp.Tuning.Importance;

/// <summary>
/// A CART regression tree (Breiman et al. 1984) fitted by least squares on a bootstrap sample, as one tree of a random
/// forest (Breiman 2001) with scikit-learn's defaults that Optuna's fANOVA uses: every feature considered at each
/// split, split until a node's targets are all equal or <c>maxDepth</c>. Thresholds are midpoints between neighbouring
/// values. Only its leaves are kept, each as a box of the feature space (<see cref="Leaf"/>), which is what fANOVA needs.
/// </summary>
internal sealed class RegressionTree
{
    /// <summary>One leaf: the box [<see cref="Low"/>, <see cref="High"/>] it covers within the bounds, and its prediction.</summary>
    public sealed record Leaf(double[] Low, double[] High, double Value);

    readonly double[][] _x; // by sample: the sample's features
    readonly double[] _y;   // by sample
    readonly int _maxDepth;
    readonly bool[] _left;  // scratch: which side of the current split each sample goes
    readonly List<Leaf> _leaves = [];

    RegressionTree(double[][] x, double[] y, int maxDepth) => (_x, _y, _maxDepth, _left) = (x, y, maxDepth, new bool[y.Length]);

    public IReadOnlyList<Leaf> Leaves => _leaves;

    /// <summary>
    /// Fits a tree to the rows <paramref name="rows"/> (repeats allowed: a bootstrap sample) of features
    /// <paramref name="x"/> (row-major) and targets <paramref name="y"/>; boxes start from [<paramref name="low"/>, <paramref name="high"/>].
    /// </summary>
    public static RegressionTree Fit(double[][] x, double[] y, int[] rows, double[] low, double[] high, int maxDepth)
    {
        var tree = new RegressionTree(rows.Select(r => x[r]).ToArray(), rows.Select(r => y[r]).ToArray(), maxDepth);
        // Samples sorted once per feature; splits partition these lists stably, so no node sorts again.
        int[][] sorted = new int[low.Length][];
        for (int f = 0; f < low.Length; f++)
        {
            sorted[f] = Enumerable.Range(0, rows.Length).ToArray();
            var keys = tree._x.Select(v => v[f]).ToArray();
            Array.Sort(keys, sorted[f]);
        }
        tree.Grow(sorted, 0, (double[])low.Clone(), (double[])high.Clone());
        return tree;
    }

    void Grow(int[][] sorted, int depth, double[] low, double[] high)
    {
        int[] samples = sorted[0];
        double sum = 0;
        bool constant = true;
        foreach (int s in samples)
        {
            sum += _y[s];
            constant &= _y[s] == _y[samples[0]];
        }
        if (depth >= _maxDepth || samples.Length < 2 || constant || !BestSplit(sorted, sum, out int feature, out double threshold))
        {
            _leaves.Add(new Leaf(low, high, sum / samples.Length));
            return;
        }
        int nLeft = 0;
        foreach (int s in samples) nLeft += (_left[s] = _x[s][feature] <= threshold) ? 1 : 0;
        var left = new int[sorted.Length][];
        var right = new int[sorted.Length][];
        for (int f = 0; f < sorted.Length; f++)
        {
            (left[f], right[f]) = (new int[nLeft], new int[samples.Length - nLeft]);
            int l = 0, r = 0;
            foreach (int s in sorted[f])
                if (_left[s]) left[f][l++] = s;
                else right[f][r++] = s;
        }
        var leftHigh = (double[])high.Clone();
        leftHigh[feature] = threshold;
        var rightLow = (double[])low.Clone();
        rightLow[feature] = threshold;
        Grow(left, depth + 1, (double[])low.Clone(), leftHigh);
        Grow(right, depth + 1, rightLow, (double[])high.Clone());
    }

    /// <summary>The split with the largest drop in squared error (the first feature wins ties); false when none lowers it.</summary>
    bool BestSplit(int[][] sorted, double total, out int feature, out double threshold)
    {
        (feature, threshold) = (-1, 0);
        int n = sorted[0].Length;
        double best = total * total / n;
        for (int f = 0; f < sorted.Length; f++)
        {
            int[] order = sorted[f];
            double sumLeft = 0;
            for (int k = 0; k < n - 1; k++)
            {
                sumLeft += _y[order[k]];
                double here = _x[order[k]][f], next = _x[order[k + 1]][f];
                if (here == next) continue;
                double sumRight = total - sumLeft;
                // Minimising the children's squared error = maximising Σ sum²/count.
                double score = sumLeft * sumLeft / (k + 1) + sumRight * sumRight / (n - k - 1);
                if (score > best * (1 + 1e-12) + 1e-300)
                {
                    (best, feature) = (score, f);
                    double mid = here + (next - here) / 2;
                    threshold = mid < next ? mid : here;
                }
            }
        }
        return feature >= 0;
    }
}
