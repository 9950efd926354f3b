namespace GptSharp.Tuning.Pruners;

/// <summary>
/// Prunes a trial whose best reported value so far is worse than the given percentile of the values that complete
/// trials reported at the trial's latest step (Optuna's <c>PercentilePruner</c>, same rules and defaults). Only complete
/// trials are compared against: pruned, failed and running ones are not. A complete trial that never reported at that
/// step does not count, so every trial should report at the same steps (the trainer's evaluation steps).
/// </summary>
public class PercentilePruner : IPruner
{
    /// <param name="percentile">In [0, 100]: 25 keeps the best quarter at each step.</param>
    /// <param name="nStartupTrials">No pruning until this many trials of the study are complete.</param>
    /// <param name="nWarmupSteps">No pruning before this step; the earliest pruning is at exactly this step.</param>
    /// <param name="intervalSteps">Steps between checks, counted from <paramref name="nWarmupSteps"/>; a check with no report is made at the next report.</param>
    /// <param name="nMinTrials">No pruning at a step fewer than this many complete trials reported at.</param>
    public PercentilePruner(double percentile, int nStartupTrials = 5, int nWarmupSteps = 0, int intervalSteps = 1, int nMinTrials = 1)
    {
        if (!(percentile >= 0 && percentile <= 100)) throw new GptSharpException($"pruner percentile must be between 0 and 100, got {percentile}");
        if (nStartupTrials < 0) throw new GptSharpException($"pruner n_startup_trials must be >= 0, got {nStartupTrials}");
        if (nWarmupSteps < 0) throw new GptSharpException($"pruner n_warmup_steps must be >= 0, got {nWarmupSteps}");
        if (intervalSteps < 1) throw new GptSharpException($"pruner interval_steps must be >= 1, got {intervalSteps}");
        if (nMinTrials < 1) throw new GptSharpException($"pruner n_min_trials must be >= 1, got {nMinTrials}");
        (Percentile, NStartupTrials, NWarmupSteps, IntervalSteps, NMinTrials) = (percentile, nStartupTrials, nWarmupSteps, intervalSteps, nMinTrials);
    }

    public double Percentile { get; }
    public int NStartupTrials { get; }
    public int NWarmupSteps { get; }
    public int IntervalSteps { get; }
    public int NMinTrials { get; }

    /// <inheritdoc/>
    public bool Prune(Study study, FrozenTrial trial)
    {
        if (trial.LastStep is not int step || step < NWarmupSteps) return false;
        var complete = study.GetTrials(TrialState.Complete);
        if (complete.Count == 0 || complete.Count < NStartupTrials) return false;
        if (!IsFirstInInterval(step, trial.IntermediateValues.Keys, NWarmupSteps, IntervalSteps)) return false;

        double best = BestIntermediate(trial, study.Direction);
        if (double.IsNaN(best)) return true; // only NaNs reported: the trial has diverged

        var atStep = new List<double>();
        foreach (var t in complete)
            if (t.IntermediateValues.TryGetValue(step, out var v)) atStep.Add(v);
        if (atStep.Count < NMinTrials) return false;
        // Maximizing keeps the top: the threshold is the mirrored percentile.
        double p = PercentileOf(atStep, study.Direction == StudyDirection.Maximize ? 100 - Percentile : Percentile);
        if (double.IsNaN(p)) return false;
        return study.Direction == StudyDirection.Maximize ? best < p : best > p;
    }

    /// <summary>
    /// Whether <paramref name="step"/> is the first report at or after the latest pruning check point
    /// (warmup + k·interval): true unless an earlier report already fell at or after that point.
    /// </summary>
    internal static bool IsFirstInInterval(int step, IEnumerable<int> reportedSteps, int warmup, int interval)
    {
        int checkPoint = (step - warmup) / interval * interval + warmup; // step >= warmup, so this division floors
        int previous = -1;
        foreach (var s in reportedSteps)
            if (s != step && s > previous) previous = s;
        return previous < checkPoint;
    }

    /// <summary>The best of the trial's reported values in the study's direction, ignoring NaN; NaN when all are.</summary>
    internal static double BestIntermediate(FrozenTrial trial, StudyDirection direction)
    {
        double best = double.NaN;
        foreach (var v in trial.IntermediateValues.Values)
            if (!double.IsNaN(v) && (double.IsNaN(best) || direction.IsBetter(v, best))) best = v;
        return best;
    }

    /// <summary>The <paramref name="q"/>-th percentile with linear interpolation between order statistics (numpy's default), ignoring NaN; NaN when nothing is left.</summary>
    internal static double PercentileOf(IEnumerable<double> values, double q)
    {
        var sorted = values.Where(v => !double.IsNaN(v)).Order().ToArray();
        if (sorted.Length == 0) return double.NaN;
        double rank = q / 100 * (sorted.Length - 1);
        int lo = (int)Math.Floor(rank), hi = Math.Min(lo + 1, sorted.Length - 1);
        double frac = rank - lo;
        return frac == 0 ? sorted[lo] : sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
    }
}
