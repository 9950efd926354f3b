using System.Text;

namespace GptSharp.Tuning.Pruners;

/// <summary>
/// Hyperband (Li et al. 2018, "Hyperband: A Novel Bandit-Based Approach to Hyperparameter Optimization"), run
/// asynchronously as Optuna's <c>HyperbandPruner</c> does: <c>n = ⌊log_η(max_resource / min_resource)⌋ + 1</c>
/// brackets, bracket b a <see cref="SuccessiveHalvingPruner"/> with min_early_stopping_rate b (bracket 0 prunes
/// hardest, the last barely). Each trial belongs to one bracket, chosen from the CRC-32 of "<c>{study}_{number}</c>"
/// modulo the sum of the brackets' budgets <c>⌈n·η^s/(s+1)⌉</c> (s = n-1-b), so every worker agrees without talking
/// and aggressive brackets get more trials, as in the paper. A bracket compares a trial only with the trials of the
/// same bracket. The bracket is kept as the trial system attribute <see cref="BracketKey"/>.
/// Unlike Optuna, samplers still see the trials of every bracket (samplers and pruners stay independent here).
/// </summary>
public sealed class HyperbandPruner : IPruner
{
    /// <summary>The trial system attribute holding a trial's bracket (a JSON integer).</summary>
    public const string BracketKey = "hyperband_bracket";

    readonly Lock _lock = new();
    int? _maxResource;
    Brackets? _brackets;
    readonly HashSet<(ITrialStorage, long)> _recorded = [];

    sealed record Brackets(SuccessiveHalvingPruner[] Pruners, int[] Budgets, long Total);

    /// <param name="minResource">The end of the first rung of bracket 0, in steps (with sparse evaluation steps: the evaluation interval).</param>
    /// <param name="maxResource">The most steps a trial runs; null is Optuna's "auto": the longest complete trial's last step + 1, known once one completes (no pruning before).</param>
    /// <param name="reductionFactor">The paper's η.</param>
    /// <param name="bootstrapCount">See <see cref="SuccessiveHalvingPruner"/>; needs an explicit <paramref name="maxResource"/>.</param>
    public HyperbandPruner(int minResource = 1, int? maxResource = null, int reductionFactor = 3, int bootstrapCount = 0)
    {
        if (minResource < 1) throw new GptSharpException($"pruner min_resource must be >= 1, got {minResource}");
        if (maxResource is int max && max < minResource) throw new GptSharpException($"pruner max_resource ({max}) must be >= min_resource ({minResource}), or \"auto\"");
        if (reductionFactor < 2) throw new GptSharpException($"pruner reduction_factor must be >= 2, got {reductionFactor}");
        if (bootstrapCount < 0) throw new GptSharpException($"pruner bootstrap_count must be >= 0, got {bootstrapCount}");
        if (bootstrapCount > 0 && maxResource is null)
            throw new GptSharpException($"pruner bootstrap_count {bootstrapCount} needs an explicit max_resource, not \"auto\"");
        (MinResource, _maxResource, ReductionFactor, BootstrapCount) = (minResource, maxResource, reductionFactor, bootstrapCount);
        if (maxResource is not null) _brackets = Build();
    }

    public int MinResource { get; }
    /// <summary>Null while "auto" has not been estimated yet.</summary>
    public int? MaxResource { get { lock (_lock) return _maxResource; } }
    public int ReductionFactor { get; }
    public int BootstrapCount { get; }

    /// <summary>How many brackets; null until <see cref="MaxResource"/> is known.</summary>
    public int? BracketCount { get { lock (_lock) return _brackets?.Pruners.Length; } }

    /// <summary>Each bracket's share of the trials, bracket 0 first; empty until <see cref="MaxResource"/> is known.</summary>
    public IReadOnlyList<int> BracketBudgets { get { lock (_lock) return _brackets?.Budgets ?? []; } }

    /// <inheritdoc/>
    public bool Prune(Study study, FrozenTrial trial)
    {
        var brackets = Initialize(study);
        if (brackets is null) return false;
        int bracket = StoredBracket(trial, brackets) ?? BracketOf(study.Name, trial.Number, brackets);
        // Written once per trial (the trial handed in may not show it: Trial caches its attributes).
        bool record;
        lock (_lock) record = !trial.SystemAttrs.ContainsKey(BracketKey) && _recorded.Add((study.Storage, trial.Id));
        if (record) study.Storage.SetTrialSystemAttr(trial.Id, BracketKey, bracket.ToString(System.Globalization.CultureInfo.InvariantCulture));
        return brackets.Pruners[bracket].Prune(study, trial,
            () => [.. study.GetTrials().Where(t => t.Id == trial.Id || (StoredBracket(t, brackets) ?? BracketOf(study.Name, t.Number, brackets)) == bracket)]);
    }

    /// <summary>The bracket of trial <paramref name="number"/> of study <paramref name="studyName"/>; null until <see cref="MaxResource"/> is known.</summary>
    public int? BracketOf(string studyName, int number)
    {
        Brackets? b;
        lock (_lock) b = _brackets;
        return b is null ? null : BracketOf(studyName, number, b);
    }

    static int BracketOf(string studyName, int number, Brackets brackets)
    {
        long n = Crc32($"{studyName}_{number}") % brackets.Total;
        for (int b = 0; b < brackets.Budgets.Length; b++)
        {
            n -= brackets.Budgets[b];
            if (n < 0) return b;
        }
        throw new InvalidOperationException("unreachable: the budgets sum to the total");
    }

    // A trial keeps the bracket it was first judged in, even if another worker counts brackets differently
    // ("auto" max_resource is estimated by each process from the trials complete when it first prunes).
    static int? StoredBracket(FrozenTrial trial, Brackets brackets) =>
        trial.SystemAttrs.TryGetValue(BracketKey, out var text) && int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var b)
            && b >= 0 && b < brackets.Pruners.Length ? b : null;

    Brackets? Initialize(Study study)
    {
        lock (_lock)
        {
            if (_brackets is not null) return _brackets;
            if (_maxResource is null)
            {
                int? last = null;
                foreach (var t in study.GetTrials(TrialState.Complete))
                    if (t.LastStep is int s && (last is null || s > last)) last = s;
                if (last is null) return null;
                _maxResource = last.Value + 1;
            }
            return _brackets = Build();
        }
    }

    Brackets? Build()
    {
        // Optuna's floating-point form, so the count (and with it the bracket of every trial) agrees with Optuna's.
        int count = (int)Math.Floor(Math.Log((double)_maxResource!.Value / MinResource) / Math.Log(ReductionFactor)) + 1;
        if (count < 1) return null; // an "auto" max_resource below min_resource: nothing to prune, as Optuna
        var pruners = new SuccessiveHalvingPruner[count];
        var budgets = new int[count];
        long total = 0;
        for (int b = 0; b < count; b++)
        {
            int s = count - 1 - b;
            budgets[b] = checked((int)Math.Ceiling(count * Math.Pow(ReductionFactor, s) / (s + 1)));
            total += budgets[b];
            pruners[b] = new SuccessiveHalvingPruner(MinResource, ReductionFactor, b, BootstrapCount);
        }
        return new Brackets(pruners, budgets, total);
    }

    /// <summary>CRC-32 (IEEE, as zlib and Python's binascii.crc32) of the UTF-8 bytes of <paramref name="text"/>.</summary>
    internal static uint Crc32(string text)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte x in Encoding.UTF8.GetBytes(text))
        {
            crc ^= x;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }
}
