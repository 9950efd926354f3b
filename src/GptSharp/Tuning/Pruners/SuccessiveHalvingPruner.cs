using System.Text.Json;
using System.Text.Json.Serialization;

namespace GptSharp.Tuning.Pruners;

/// <summary>
/// Asynchronous successive halving, ASHA (Li et al. 2020, "A System for Massively Parallel Hyperparameter Tuning";
/// Optuna's <c>SuccessiveHalvingPruner</c>, same rules and defaults). Rung k ends at step
/// <c>min_resource · reduction_factor^(min_early_stopping_rate + k)</c>. A trial whose latest report is at or past the
/// end of its current rung records its latest value there (the trial system attribute <c>completed_rung_k</c>) and goes
/// on only when that value is among the best <c>1/reduction_factor</c> of all the values recorded at rung k by any
/// trial of the study, whatever its state (running, pruned, complete); among the first <c>reduction_factor - 1</c>
/// trials of a rung only the best so far goes on, since a trial cannot be paused and resumed later. Reports may be
/// sparse (the trainer's evaluation steps): a report past several rung ends passes them one by one with its value.
/// </summary>
public sealed class SuccessiveHalvingPruner : IPruner
{
    static readonly JsonSerializerOptions Json = new() { NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals };
    int _minResource; // 0 until known ("auto" before the first complete trial)

    /// <param name="minResource">
    /// The end of the first rung (the paper's r), in steps; null is Optuna's "auto": the last step of the longest
    /// complete trial / 100 (at least 1), estimated once the first trial completes (no pruning before). With sparse
    /// evaluation steps give it explicitly, e.g. the evaluation interval.
    /// </param>
    /// <param name="reductionFactor">The paper's η: about 1/η of the trials reaching a rung go on to the next.</param>
    /// <param name="minEarlyStoppingRate">The paper's s: the first rung ends at <c>r·η^s</c>.</param>
    /// <param name="bootstrapCount">A trial is pruned at a rung until more than this many trials (itself included) have reached it.</param>
    public SuccessiveHalvingPruner(int? minResource = null, int reductionFactor = 4, int minEarlyStoppingRate = 0, int bootstrapCount = 0)
    {
        if (minResource is < 1) throw new GptSharpException($"pruner min_resource must be >= 1 or \"auto\", got {minResource}");
        if (reductionFactor < 2) throw new GptSharpException($"pruner reduction_factor must be >= 2, got {reductionFactor}");
        if (minEarlyStoppingRate < 0) throw new GptSharpException($"pruner min_early_stopping_rate must be >= 0, got {minEarlyStoppingRate}");
        if (bootstrapCount < 0) throw new GptSharpException($"pruner bootstrap_count must be >= 0, got {bootstrapCount}");
        // With "auto" the first rungs would be judged before their size is known.
        if (bootstrapCount > 0 && minResource is null)
            throw new GptSharpException($"pruner bootstrap_count {bootstrapCount} needs an explicit min_resource, not \"auto\"");
        _minResource = minResource ?? 0;
        (ReductionFactor, MinEarlyStoppingRate, BootstrapCount) = (reductionFactor, minEarlyStoppingRate, bootstrapCount);
    }

    /// <summary>The end of the first rung in steps; null while "auto" has not been estimated yet.</summary>
    public int? MinResource => Volatile.Read(ref _minResource) is > 0 and var r ? r : null;
    public int ReductionFactor { get; }
    public int MinEarlyStoppingRate { get; }
    public int BootstrapCount { get; }

    /// <summary>The trial system attribute holding a trial's value at the end of rung <paramref name="rung"/> (Optuna's key).</summary>
    public static string RungKey(int rung) => $"completed_rung_{rung}";

    /// <inheritdoc/>
    public bool Prune(Study study, FrozenTrial trial) => Prune(study, trial, () => study.GetTrials());

    /// <summary>Decides against the trials <paramref name="getTrials"/> gives (Hyperband passes one bracket's).</summary>
    internal bool Prune(Study study, FrozenTrial trial, Func<IReadOnlyList<FrozenTrial>> getTrials)
    {
        if (trial.LastStep is not int step) return false;
        double value = trial.IntermediateValues[step];
        int rung = CurrentRung(trial.SystemAttrs);
        IReadOnlyList<FrozenTrial>? trials = null;
        while (true)
        {
            int minResource = Volatile.Read(ref _minResource);
            if (minResource == 0)
            {
                trials ??= Fetch();
                minResource = EstimateMinResource(trials);
                if (minResource == 0) return false;
                Volatile.Write(ref _minResource, minResource);
            }
            if (step < RungEnd(minResource, rung)) return false;
            if (double.IsNaN(value)) return true;
            if (trials is null)
            {
                trials = Fetch();
                continue; // the stored copy may be at a later rung
            }
            string key = RungKey(rung);
            study.Storage.SetTrialSystemAttr(trial.Id, key, JsonSerializer.Serialize(value, Json));
            var competing = new List<double> { value };
            foreach (var t in trials)
                if (t.Id != trial.Id && t.SystemAttrs.TryGetValue(key, out var json) && TryParse(json, out var v)) competing.Add(v);
            if (competing.Count <= BootstrapCount) return true;
            if (!IsPromotable(value, competing, ReductionFactor, study.Direction)) return true;
            rung++;
        }

        IReadOnlyList<FrozenTrial> Fetch()
        {
            var all = getTrials();
            // The trial handed in may not carry the rungs recorded since it started (Trial caches its attributes): the stored copy does.
            if (all.FirstOrDefault(t => t.Id == trial.Id) is { } stored) rung = Math.Max(rung, CurrentRung(stored.SystemAttrs));
            return all;
        }
    }

    /// <summary>The step at which rung <paramref name="rung"/> ends; past int.MaxValue (no step reaches it) when it overflows.</summary>
    long RungEnd(int minResource, int rung)
    {
        long end = minResource;
        for (int i = 0; i < MinEarlyStoppingRate + rung && end <= int.MaxValue; i++) end *= ReductionFactor;
        return Math.Min(end, (long)int.MaxValue + 1);
    }

    /// <summary>The first rung the trial has not completed.</summary>
    static int CurrentRung(IReadOnlyDictionary<string, string> systemAttrs)
    {
        int rung = 0;
        while (systemAttrs.ContainsKey(RungKey(rung))) rung++;
        return rung;
    }

    /// <summary>Optuna's "auto": the longest complete trial's last step / 100, at least 1; 0 when no trial is complete.</summary>
    internal static int EstimateMinResource(IEnumerable<FrozenTrial> trials)
    {
        int? last = null;
        foreach (var t in trials)
            if (t.State == TrialState.Complete && t.LastStep is int s && (last is null || s > last)) last = s;
        return last is int l ? Math.Max(l / 100, 1) : 0;
    }

    /// <summary>
    /// Whether <paramref name="value"/> is within the best ⌊n/η⌋ of the <paramref name="competing"/> values (itself
    /// included); when fewer than η compete, whether it is the best of them. Ties go on.
    /// </summary>
    internal static bool IsPromotable(double value, IReadOnlyList<double> competing, int reductionFactor, StudyDirection direction)
    {
        int kept = Math.Max(competing.Count / reductionFactor, 1);
        var sorted = competing.Order().ToArray();
        return direction == StudyDirection.Maximize ? value >= sorted[^kept] : value <= sorted[kept - 1];
    }

    static bool TryParse(string json, out double value)
    {
        try { value = JsonSerializer.Deserialize<double>(json, Json); return true; }
        catch (JsonException) { value = 0; return false; }
    }
}
