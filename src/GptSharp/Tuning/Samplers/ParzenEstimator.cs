using System.Runtime.CompilerServices;

namespace GptSharp.Tuning.Samplers;

/// <summary>
/// TPE's density model of a set of observations (Bergstra et al. 2011): a mixture with one kernel per observation plus
/// a prior kernel, each kernel a product over the parameters (Falkner et al. 2018 for several parameters at once).
/// Rules follow Optuna 3.1–4.2's <c>_ParzenEstimator</c> (<c>consider_prior</c> on):
/// <list type="bullet">
/// <item>log parameters are modelled in log space; a step grid (a float's step, an int's step) extends the range by
/// half a step on each side and is scored by each kernel's probability mass over the point's bin (a discrete truncated
/// normal); an int on a log scale is a continuous kernel on [log(low − ½), log(high + ½)], rounded after drawing;</item>
/// <item>means are the observations, plus the prior at the middle of the range with σ = the range;</item>
/// <item>one parameter at a time, σ of an observation is the larger gap to its neighbours among the sorted means
/// (prior included, the range's ends as outer neighbours; without <see cref="TpeOptions.ConsiderEndpoints"/> the
/// outermost take their inner gap); jointly, σ = 0.2 · range · max(n, 1)^(−1/(d + 4)) (Scott's rule as in BOHB);</item>
/// <item>σ is clipped to [range / min(100, 1 + kernels), range] (the magic clip; 1e-12 without it);</item>
/// <item>categorical kernels put weight 1 + w/(n+1) on the observed choice and w/(n+1) on each other (w the prior
/// weight), normalised; the prior kernel is uniform;</item>
/// <item>kernel weights are <see cref="TpeOptions.Weights"/> of the observations (oldest first) and the prior weight,
/// normalised; with no observations only the prior remains;</item>
/// <item>a continuous kernel scores x by φ(z) / mass, z = (x − μ)/σ, as Optuna 3.1–3.4 (the default
/// <see cref="TpeKernelDensity.Optuna31"/>: in effect each kernel's weight is multiplied by its σ, so l and g lean
/// towards their wide kernels), or by its true density φ(z) / (σ · mass) as 3.5+ (<see cref="TpeKernelDensity.Normalized"/>);
/// on a grid, by its mass over the point's bin either way.</item>
/// </list>
/// Values are internal (<see cref="Distribution"/>).
/// </summary>
internal sealed class ParzenEstimator
{
    const double Eps = 1e-12;
    const double LogSqrt2Pi = 0.91893853320467274178;

    readonly Kernels[] _dims;
    readonly double[] _cumulative;

    /// <summary>Normalised kernel weights, the observations' first (oldest first), the prior's last.</summary>
    public double[] Weights { get; }

    /// <summary>The parameters' distributions, in the order samples list them.</summary>
    public IReadOnlyList<Distribution> Space { get; }

    /// <param name="space">The parameters (none single-valued).</param>
    /// <param name="observations">Per parameter, the internal values of the same n trials, oldest first.</param>
    /// <param name="weights">Observation weights (null: <see cref="TpeOptions.Weights"/>).</param>
    public ParzenEstimator(IReadOnlyList<Distribution> space, IReadOnlyList<double[]> observations, TpeOptions options, bool multivariate,
        double[]? weights = null)
    {
        Space = space;
        int n = observations.Count == 0 ? 0 : observations[0].Length;
        double[] w;
        if (n == 0) w = [1.0];
        else
        {
            var given = weights ?? options.Weights(n);
            if (given.Length < n) throw new GptSharpException($"tpe: the weights function returned {given.Length} weights for {n} observations");
            w = new double[n + 1];
            for (int i = 0; i < n; i++)
                w[i] = given[i] is var x && x >= 0 && double.IsFinite(x) ? x : throw new GptSharpException($"tpe: weights must be finite and >= 0, got {x}");
            w[n] = options.PriorWeight;
        }
        double total = w.Sum();
        for (int i = 0; i < w.Length; i++) w[i] /= total;
        Weights = w;
        _cumulative = new double[w.Length];
        double c = 0;
        for (int i = 0; i < w.Length; i++) _cumulative[i] = c += w[i];

        _dims = new Kernels[space.Count];
        for (int d = 0; d < space.Count; d++)
            _dims[d] = space[d] is CategoricalDistribution cat
                ? new CategoricalKernels(cat, observations[d], n, options.PriorWeight)
                : new NumericalKernels(space[d], observations.Count == 0 ? [] : observations[d], options, multivariate ? space.Count : 0);
    }

    /// <summary>Kernel means of parameter <paramref name="dim"/> in the model's space (log for log scales), the prior's last.</summary>
    public double[] Mus(int dim) => ((NumericalKernels)_dims[dim]).Mus;

    /// <summary>Kernel widths of parameter <paramref name="dim"/>, the prior's last.</summary>
    public double[] Sigmas(int dim) => ((NumericalKernels)_dims[dim]).Sigmas;

    /// <summary>The truncation range of parameter <paramref name="dim"/> in the model's space (extended by half a step on a grid).</summary>
    public (double Low, double High) Bounds(int dim) => (((NumericalKernels)_dims[dim]).Low, ((NumericalKernels)_dims[dim]).High);

    /// <summary>Per kernel, the probabilities of each choice of categorical parameter <paramref name="dim"/>.</summary>
    public double[][] CategoricalWeights(int dim) => ((CategoricalKernels)_dims[dim]).Probs;

    /// <summary>Draws <paramref name="count"/> points (internal values, one array per point).</summary>
    public double[][] Sample(Random rng, int count)
    {
        var points = new double[count][];
        for (int s = 0; s < count; s++)
        {
            int k = Array.BinarySearch(_cumulative, rng.NextDouble() * _cumulative[^1]);
            k = Math.Min(k < 0 ? ~k : k, Weights.Length - 1);
            var p = points[s] = new double[_dims.Length];
            for (int d = 0; d < _dims.Length; d++) p[d] = _dims[d].Sample(rng, k);
        }
        return points;
    }

    /// <summary>log density (mass on grids) of each point under the mixture.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public double[] LogPdf(IReadOnlyList<double[]> points)
    {
        int kernels = Weights.Length;
        var acc = new double[points.Count * kernels];
        for (int d = 0; d < _dims.Length; d++) _dims[d].AddLogPdf(points, d, acc);
        var result = new double[points.Count];
        var logW = Weights.Select(v => Math.Log(v)).ToArray();
        for (int s = 0; s < points.Count; s++)
        {
            double max = double.NegativeInfinity;
            for (int k = 0; k < kernels; k++) max = Math.Max(max, acc[s * kernels + k] += logW[k]);
            if (double.IsNegativeInfinity(max)) { result[s] = max; continue; }
            double sum = 0;
            for (int k = 0; k < kernels; k++) sum += Math.Exp(acc[s * kernels + k] - max);
            result[s] = max + Math.Log(sum);
        }
        return result;
    }

    abstract class Kernels
    {
        public abstract double Sample(Random rng, int kernel);

        /// <summary>Adds each kernel's log density of each point's value of parameter <paramref name="dim"/> to acc[point, kernel].</summary>
        public abstract void AddLogPdf(IReadOnlyList<double[]> points, int dim, double[] acc);
    }

    sealed class CategoricalKernels : Kernels
    {
        public double[][] Probs { get; }
        readonly double[][] _logProbs;

        public CategoricalKernels(CategoricalDistribution dist, double[] observed, int n, double priorWeight)
        {
            int choices = dist.Choices.Count;
            Probs = new double[n + 1][];
            for (int k = 0; k <= n; k++)
            {
                var row = Probs[k] = new double[choices];
                Array.Fill(row, n == 0 ? 1.0 : priorWeight / (n + 1));
                if (k < n) row[(int)observed[k]] += 1;
                double sum = row.Sum();
                for (int i = 0; i < choices; i++) row[i] /= sum;
            }
            _logProbs = [.. Probs.Select(r => r.Select(v => Math.Log(v)).ToArray())];
        }

        public override double Sample(Random rng, int kernel)
        {
            var row = Probs[kernel];
            double u = rng.NextDouble(), c = 0;
            for (int i = 0; i < row.Length - 1; i++)
                if (u < (c += row[i])) return i;
            return row.Length - 1;
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public override void AddLogPdf(IReadOnlyList<double[]> points, int dim, double[] acc)
        {
            int kernels = _logProbs.Length;
            for (int s = 0; s < points.Count; s++)
            {
                int choice = (int)points[s][dim];
                for (int k = 0; k < kernels; k++) acc[s * kernels + k] += _logProbs[k][choice];
            }
        }
    }

    sealed class NumericalKernels : Kernels
    {
        readonly Distribution _dist;
        readonly bool _log;
        readonly double _step; // bin width on a linear grid, 0 when continuous (log ints included, as Optuna)
        readonly double[] _mus, _invSigma, _logNorm, _logScale; // per kernel; _logScale = log of the density's factor

        public double[] Mus { get; }
        public double[] Sigmas { get; }
        public double Low { get; }
        public double High { get; }

        /// <param name="jointDims">Parameters modelled jointly (Scott's rule), 0 for one at a time.</param>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public NumericalKernels(Distribution dist, double[] observed, TpeOptions options, int jointDims)
        {
            _dist = dist;
            (double low, double high) = dist switch
            {
                FloatDistribution { Log: true } f => (Math.Log(f.Low), Math.Log(f.High)),
                FloatDistribution { Step: { } s } f => (f.Low - s / 2, f.High + s / 2),
                FloatDistribution f => (f.Low, f.High),
                IntDistribution { Log: true } i => (Math.Log(i.Low - 0.5), Math.Log(i.High + 0.5)),
                IntDistribution i => (i.Low - i.Step / 2.0, i.High + i.Step / 2.0),
                _ => throw new ArgumentException($"not a numerical distribution: {dist.ToJsonString()}"),
            };
            _log = dist is FloatDistribution { Log: true } or IntDistribution { Log: true };
            _step = dist switch { FloatDistribution { Step: { } s } => s, IntDistribution { Log: false } i => i.Step, _ => 0 };
            (Low, High) = (low, high);
            int n = observed.Length;
            double range = high - low;
            var mus = new double[n + 1];
            for (int i = 0; i < n; i++) mus[i] = _log ? Math.Log(observed[i]) : observed[i];
            mus[n] = 0.5 * (low + high);
            var sigmas = new double[n + 1];
            if (jointDims > 0)
                Array.Fill(sigmas, 0.2 * Math.Pow(Math.Max(n, 1), -1.0 / (jointDims + 4)) * range);
            else
            {
                int m = n + 1;
                var order = Enumerable.Range(0, m).OrderBy(i => mus[i]).ToArray(); // stable
                for (int r = 0; r < m; r++)
                {
                    double here = mus[order[r]];
                    double left = here - (r == 0 ? low : mus[order[r - 1]]);
                    double right = (r == m - 1 ? high : mus[order[r + 1]]) - here;
                    sigmas[order[r]] = Math.Max(left, right);
                }
                if (!options.ConsiderEndpoints && m >= 2)
                {
                    sigmas[order[0]] = mus[order[1]] - mus[order[0]];
                    sigmas[order[m - 1]] = mus[order[m - 1]] - mus[order[m - 2]];
                }
            }
            double minSigma = options.ConsiderMagicClip ? range / Math.Min(100.0, 1.0 + (n + 1)) : Eps;
            for (int i = 0; i < sigmas.Length; i++) sigmas[i] = Math.Clamp(sigmas[i], minSigma, range);
            sigmas[n] = range;
            Mus = mus;
            Sigmas = sigmas;
            _mus = mus;
            _invSigma = [.. sigmas.Select(v => 1 / v)];
            _logNorm = new double[n + 1];
            _logScale = new double[n + 1];
            for (int k = 0; k <= n; k++)
            {
                _logNorm[k] = TruncatedNormal.LogMass((low - mus[k]) / sigmas[k], (high - mus[k]) / sigmas[k]);
                _logScale[k] = -LogSqrt2Pi - (options.KernelDensity == TpeKernelDensity.Normalized ? Math.Log(sigmas[k]) : 0) - _logNorm[k];
            }
        }

        public override double Sample(Random rng, int kernel)
        {
            double x = TruncatedNormal.Sample(rng, Mus[kernel], Sigmas[kernel], Low, High);
            switch (_dist)
            {
                case FloatDistribution { Log: true } f:
                    return Math.Clamp(Math.Exp(x), f.Low, f.High);
                case FloatDistribution { Step: { } s } f:
                    return Math.Clamp(f.Low + Math.Round((x - f.Low) / s) * s, f.Low, f.High);
                case FloatDistribution f:
                    return Math.Clamp(x, f.Low, f.High);
                case IntDistribution { Log: true } i:
                    return Math.Clamp(Math.Round(Math.Exp(x)), i.Low, i.High);
                case IntDistribution i:
                    return Math.Clamp(i.Low + Math.Round((x - i.Low) / i.Step) * i.Step, i.Low, i.High);
                default:
                    throw new InvalidOperationException();
            }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public override void AddLogPdf(IReadOnlyList<double[]> points, int dim, double[] acc)
        {
            int kernels = Mus.Length;
            // Grid points repeat among candidates: score each distinct value once.
            var rows = new Dictionary<double, double[]>();
            for (int s = 0; s < points.Count; s++)
            {
                double v = points[s][dim];
                if (!rows.TryGetValue(v, out var row))
                {
                    double x = _log ? Math.Log(v) : v;
                    row = rows[v] = new double[kernels];
                    if (_step == 0)
                        for (int k = 0; k < kernels; k++)
                        {
                            double z = (x - _mus[k]) * _invSigma[k];
                            row[k] = _logScale[k] - 0.5 * z * z;
                        }
                    else
                    {
                        double lo = Math.Max(x - _step / 2, Low), hi = Math.Min(x + _step / 2, High);
                        for (int k = 0; k < kernels; k++)
                            row[k] = TruncatedNormal.LogMass((lo - Mus[k]) / Sigmas[k], (hi - Mus[k]) / Sigmas[k]) - _logNorm[k];
                    }
                }
                for (int k = 0; k < kernels; k++) acc[s * kernels + k] += row[k];
            }
        }
    }
}
