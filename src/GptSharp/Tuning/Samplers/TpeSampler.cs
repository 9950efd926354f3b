namespace GptSharp.Tuning.Samplers;

/// <summary>
/// Tree-structured Parzen Estimator (Bergstra et al. 2011, "Algorithms for Hyper-Parameter Optimization"), as Optuna's
/// <c>TPESampler</c> of versions 3.1–4.2 (4.3+ no longer counts the prior among a kernel's neighbours); a continuous
/// kernel scores a point as 3.1–3.4 do by default, by the density of the standardised value, which weighs each kernel by
/// its width σ (<see cref="TpeOptions.KernelDensity"/>; 3.5+ divides by σ, which did clearly worse on bench/tuning's
/// objectives): the first <see cref="TpeOptions.StartupTrials"/> trials
/// are drawn at random; after that the finished trials are split into the best γ(n) ("below", density l(x)) and the
/// rest ("above", g(x)), each is modelled by a <see cref="ParzenEstimator"/>, <see cref="TpeOptions.EiCandidates"/>
/// points are drawn from l and the one with the largest log l(x) − log g(x) is suggested (maximising expected
/// improvement). Pruned trials rank after every complete one, those that reported a later step first, then by their
/// last reported value. With <see cref="TpeOptions.Multivariate"/> the parameters every finished trial has are drawn
/// jointly (Falkner et al. 2018, BOHB); with <see cref="TpeOptions.ConstantLiar"/> other workers' running trials count
/// as the worst observations. Draws are seeded per (seed, trial number, parameter), so workers sharing a seed still draw
/// different points, and the same seed and trials give the same suggestions in any process.
/// </summary>
public sealed class TpeSampler : ISampler
{
    const int CachedSnapshots = 8;
    const string RelativeKey = "\0relative";

    readonly int _seed;
    readonly List<Snapshot> _cache = [];

    public TpeSampler(TpeOptions? options = null)
    {
        Options = options ?? new TpeOptions();
        Options.Validate();
        _seed = Options.Seed ?? Random.Shared.Next();
    }

    public TpeOptions Options { get; }

    /// <summary>
    /// With <see cref="TpeOptions.Multivariate"/>: the parameters that every complete or pruned trial has, with one
    /// and the same distribution (Optuna's <c>IntersectionSearchSpace</c>), less single-valued ones; sorted by name.
    /// </summary>
    public IReadOnlyDictionary<string, Distribution> InferRelativeSearchSpace(Study study, FrozenTrial trial)
    {
        var space = new SortedDictionary<string, Distribution>(StringComparer.Ordinal);
        if (!Options.Multivariate) return space;
        Dictionary<string, Distribution>? common = null;
        foreach (var t in GetSnapshot(study, trial).Finished)
        {
            if (common is null) { common = new(t.Distributions); continue; }
            foreach (var name in common.Keys.ToArray())
                if (!t.Distributions.TryGetValue(name, out var d) || !d.Equals(common[name])) common.Remove(name);
            if (common.Count == 0) break;
        }
        foreach (var (name, d) in common ?? [])
            if (!d.IsSingle) space[name] = d;
        return space;
    }

    /// <summary>Joint draws for <paramref name="searchSpace"/>; none before the startup trials are done.</summary>
    public IReadOnlyDictionary<string, double> SampleRelative(Study study, FrozenTrial trial, IReadOnlyDictionary<string, Distribution> searchSpace)
    {
        var result = new Dictionary<string, double>();
        if (searchSpace.Count == 0) return result;
        var snap = GetSnapshot(study, trial);
        if (snap.N < Options.StartupTrials) return result;
        var names = searchSpace.Keys.ToArray();
        var point = Sample(snap, names, [.. names.Select(n => searchSpace[n])], multivariate: true, Rng(trial.Number, RelativeKey));
        for (int i = 0; i < names.Length; i++) result[names[i]] = point[i];
        return result;
    }

    /// <summary>One parameter: random during startup, then univariate TPE.</summary>
    public double SampleIndependent(Study study, FrozenTrial trial, string name, Distribution distribution)
    {
        var rng = Rng(trial.Number, name);
        var snap = GetSnapshot(study, trial);
        if (snap.N < Options.StartupTrials) return RandomSampler.Draw(rng, distribution);
        return Sample(snap, [name], [distribution], multivariate: false, rng)[0];
    }

    double[] Sample(Snapshot snap, string[] names, Distribution[] space, bool multivariate, Random rng)
    {
        var below = new ParzenEstimator(space, Observations(snap.Below, names, space), Options, multivariate);
        var above = new ParzenEstimator(space, Observations(snap.Above, names, space), Options, multivariate);
        var candidates = below.Sample(rng, Options.EiCandidates);
        var l = below.LogPdf(candidates);
        var g = above.LogPdf(candidates);
        int best = 0;
        for (int i = 1; i < candidates.Length; i++)
            if (l[i] - g[i] > l[best] - g[best]) best = i;
        return candidates[best];
    }

    /// <summary>
    /// The internal values of <paramref name="names"/> in those of <paramref name="trials"/> (oldest first) that have
    /// them all from a distribution of the same kind; one array per parameter.
    /// </summary>
    static double[][] Observations(IReadOnlyList<FrozenTrial> trials, string[] names, Distribution[] space)
    {
        var columns = names.Select(_ => new List<double>()).ToArray();
        var row = new double[names.Length];
        foreach (var t in trials)
        {
            bool all = true;
            for (int i = 0; i < names.Length && all; i++)
                all = t.InternalParams.TryGetValue(names[i], out row[i]) && t.Distributions.TryGetValue(names[i], out var d) && SameKind(d, space[i]);
            if (!all) continue;
            for (int i = 0; i < names.Length; i++) columns[i].Add(row[i]);
        }
        return [.. columns.Select(c => c.ToArray())];
    }

    static bool SameKind(Distribution a, Distribution b) => (a, b) switch
    {
        (FloatDistribution x, FloatDistribution y) => x.Log == y.Log,
        (IntDistribution x, IntDistribution y) => x.Log == y.Log,
        (CategoricalDistribution x, CategoricalDistribution y) => x.Equals(y),
        _ => false,
    };

    /// <summary>
    /// Splits trials into the best <paramref name="nBelow"/> and the rest, each oldest first (Optuna's
    /// <c>_split_observation_pairs</c>): complete trials rank by loss; pruned trials after them, a later last step
    /// first, then by the value reported there (NaN worst; none reported after all that reported); running trials
    /// (the constant liar's) last. Ties keep trial order.
    /// </summary>
    internal static (List<FrozenTrial> Below, List<FrozenTrial> Above) Split(IReadOnlyList<FrozenTrial> trials, StudyDirection direction, int nBelow)
    {
        var ranked = new List<(FrozenTrial Trial, double Step, double Loss)>(trials.Count);
        foreach (var t in trials)
            if (t.State is TrialState.Complete ? t.Value is not null : t.State is TrialState.Pruned or TrialState.Running)
            {
                var (step, loss) = RankKey(t, direction);
                ranked.Add((t, step, loss));
            }
        ranked.Sort((x, y) => x.Step != y.Step ? x.Step.CompareTo(y.Step) : x.Loss != y.Loss ? x.Loss.CompareTo(y.Loss) : x.Trial.Number.CompareTo(y.Trial.Number));
        nBelow = Math.Clamp(nBelow, 0, ranked.Count);
        var below = ranked.Take(nBelow).Select(p => p.Trial).ToList();
        var above = ranked.Skip(nBelow).Select(p => p.Trial).ToList();
        below.Sort((x, y) => x.Number.CompareTo(y.Number));
        above.Sort((x, y) => x.Number.CompareTo(y.Number));
        return (below, above);
    }

    static (double Step, double Loss) RankKey(FrozenTrial t, StudyDirection direction)
    {
        switch (t.State)
        {
            case TrialState.Complete:
                return (double.NegativeInfinity, direction.AsLoss(t.Value!.Value));
            case TrialState.Pruned when t.LastStep is { } step:
                double v = t.IntermediateValues[step];
                return (-step, double.IsNaN(v) ? double.PositiveInfinity : direction.AsLoss(v));
            case TrialState.Pruned:
                return (1, 0);
            default:
                return (double.PositiveInfinity, double.PositiveInfinity);
        }
    }

    /// <summary>The study's trials as this trial sees them, fetched and split once per trial (every parameter reuses it).</summary>
    Snapshot GetSnapshot(Study study, FrozenTrial trial)
    {
        lock (_cache)
            foreach (var s in _cache)
                if (ReferenceEquals(s.Study, study) && s.TrialId == trial.Id) return s;
        var states = Options.ConstantLiar
            ? new[] { TrialState.Complete, TrialState.Pruned, TrialState.Running }
            : [TrialState.Complete, TrialState.Pruned];
        var trials = study.GetTrials(states).Where(t => t.Number != trial.Number).ToList();
        var finished = trials.Where(t => t.State != TrialState.Running).ToList();
        int n = finished.Count;
        var (below, above) = Split(trials, study.Direction, Options.Gamma(n));
        var snap = new Snapshot(study, trial.Id, n, finished, below, above);
        lock (_cache)
        {
            _cache.Add(snap);
            if (_cache.Count > CachedSnapshots) _cache.RemoveAt(0);
        }
        return snap;
    }

    sealed record Snapshot(Study Study, long TrialId, int N, List<FrozenTrial> Finished, List<FrozenTrial> Below, List<FrozenTrial> Above);

    /// <summary>The generator of one draw: <see cref="RandomSampler"/>'s, so the startup trials are those of a random sampler with the same seed.</summary>
    Random Rng(int trialNumber, string name) => RandomSampler.Generator(_seed, trialNumber, name);
}
