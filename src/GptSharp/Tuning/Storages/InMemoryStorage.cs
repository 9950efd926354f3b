namespace GptSharp.Tuning.Storages;

/// <summary>
/// Studies kept in this process only (Optuna's <c>InMemoryStorage</c>): fast, safe for threads of one process (one
/// lock), gone when the process ends. The reference semantics of <see cref="ITrialStorage"/>.
/// </summary>
public sealed class InMemoryStorage : ITrialStorage
{
    sealed class StudyRow(StudyInfo info)
    {
        public StudyInfo Info = info;
        public readonly Dictionary<string, string> SystemAttrs = [];
        public readonly List<TrialRow> Trials = [];
        public readonly HashSet<string> EnqueuedKeys = [];
    }

    sealed class TrialRow(long id, long studyId, int number, TrialState state)
    {
        public readonly long Id = id, StudyId = studyId;
        public readonly int Number = number;
        public TrialState State = state;
        public double? Value;
        public string? Worker;
        public DateTimeOffset? Started, Completed, Heartbeat;
        public readonly Dictionary<string, Distribution> Distributions = [];
        public readonly Dictionary<string, double> Params = [];
        public readonly SortedDictionary<int, double> Intermediate = [];
        public readonly Dictionary<string, string> UserAttrs = [], SystemAttrs = [];
    }

    readonly Lock _lock = new();
    readonly List<StudyRow> _studies = [];
    readonly Dictionary<long, TrialRow> _trials = [];
    long _nextTrialId = 1;

    /// <summary>The clock heartbeats are read from; tests move it.</summary>
    public Func<DateTimeOffset> Clock { get; init; } = () => DateTimeOffset.UtcNow;

    public StudyInfo CreateStudy(string name, StudyDirection direction, bool loadIfExists)
    {
        lock (_lock)
        {
            if (_studies.Find(s => s.Info.Name == name) is { } existing)
                return StorageRules.Existing(existing.Info, direction, loadIfExists);
            var row = new StudyRow(new StudyInfo(_studies.Count + 1, name, direction));
            _studies.Add(row);
            return row.Info;
        }
    }

    public StudyInfo? FindStudy(string name)
    {
        lock (_lock) return _studies.Find(s => s.Info.Name == name)?.Info;
    }

    public IReadOnlyList<StudyInfo> GetAllStudies()
    {
        lock (_lock) return [.. _studies.Select(s => s.Info)];
    }

    public void SetStudySystemAttr(long studyId, string key, string json)
    {
        lock (_lock) Study(studyId).SystemAttrs[key] = json;
    }

    public IReadOnlyDictionary<string, string> GetStudySystemAttrs(long studyId)
    {
        lock (_lock) return new Dictionary<string, string>(Study(studyId).SystemAttrs);
    }

    public int EnqueueTrial(long studyId, IReadOnlyDictionary<string, string> systemAttrs)
    {
        lock (_lock) return AddWaiting(Study(studyId), systemAttrs).Number;
    }

    public bool EnqueueTrialsOnce(long studyId, string key, IReadOnlyList<IReadOnlyDictionary<string, string>> systemAttrs)
    {
        lock (_lock)
        {
            var study = Study(studyId);
            if (!study.EnqueuedKeys.Add(key)) return false;
            foreach (var attrs in systemAttrs) AddWaiting(study, attrs);
            return true;
        }
    }

    TrialRow AddWaiting(StudyRow study, IReadOnlyDictionary<string, string> systemAttrs)
    {
        var row = NewTrial(study, TrialState.Waiting);
        foreach (var (k, v) in systemAttrs) row.SystemAttrs[k] = v;
        return row;
    }

    TrialRow NewTrial(StudyRow study, TrialState state)
    {
        var row = new TrialRow(_nextTrialId++, study.Info.Id, study.Trials.Count, state);
        study.Trials.Add(row);
        _trials[row.Id] = row;
        return row;
    }

    public FrozenTrial? StartTrial(long studyId, TrialStart start)
    {
        lock (_lock)
        {
            var study = Study(studyId);
            if (start.MaxTrials is { } max && study.Trials.Count(t => t.State is TrialState.Running or TrialState.Complete or TrialState.Pruned) >= max)
                return null;
            var row = study.Trials.Find(t => t.State == TrialState.Waiting);
            if (row is null)
            {
                if (start.OnlyWaiting) return null;
                row = NewTrial(study, TrialState.Running);
            }
            row.State = TrialState.Running;
            row.Worker = start.Worker;
            row.Started = Clock();
            if (start.Heartbeat) row.Heartbeat = row.Started;
            return Freeze(row);
        }
    }

    public void SetTrialParam(long trialId, string name, Distribution distribution, double internalValue)
    {
        lock (_lock)
        {
            var row = Running(trialId);
            foreach (var other in Study(row.StudyId).Trials)
                if (other != row && other.Distributions.TryGetValue(name, out var existing))
                {
                    Distribution.CheckCompatible(name, existing, distribution);
                    break;
                }
            if (!distribution.Contains(internalValue))
                throw new GptSharpException($"parameter \"{name}\": {internalValue} is outside {distribution.ToJsonString()}");
            row.Distributions[name] = distribution;
            row.Params[name] = internalValue;
        }
    }

    public void SetTrialIntermediateValue(long trialId, int step, double value)
    {
        lock (_lock) Running(trialId).Intermediate[step] = value;
    }

    public void SetTrialUserAttr(long trialId, string key, string json)
    {
        lock (_lock) Running(trialId).UserAttrs[key] = json;
    }

    public void SetTrialSystemAttr(long trialId, string key, string json)
    {
        lock (_lock) Running(trialId).SystemAttrs[key] = json;
    }

    public void FinishTrial(long trialId, TrialState state, double? value)
    {
        if (!state.IsFinished()) throw new GptSharpException($"a trial is finished as complete, pruned or fail, not {state.ToName()}");
        if (value is { } v && !double.IsFinite(v)) throw new GptSharpException($"a trial's value must be finite, got {v}");
        lock (_lock)
        {
            var row = Running(trialId);
            row.State = state;
            row.Value = value;
            row.Completed = Clock();
        }
    }

    public void RecordHeartbeat(long trialId)
    {
        lock (_lock)
        {
            var row = Trial(trialId);
            if (row.State == TrialState.Running) row.Heartbeat = Clock();
        }
    }

    public IReadOnlyList<FrozenTrial> FailStaleTrials(long studyId, TimeSpan grace, bool requeue)
    {
        lock (_lock)
        {
            var study = Study(studyId);
            var now = Clock();
            var failed = new List<FrozenTrial>();
            foreach (var row in study.Trials.ToArray())
            {
                if (row.State != TrialState.Running || row.Heartbeat is not { } beat || now - beat <= grace) continue;
                row.State = TrialState.Fail;
                row.Completed = now;
                row.SystemAttrs[StorageRules.FailReasonKey] = StorageRules.StaleReasonJson;
                var frozen = Freeze(row);
                failed.Add(frozen);
                if (requeue) AddWaiting(study, StorageRules.RequeueAttrs(frozen));
            }
            return failed;
        }
    }

    public FrozenTrial? GetTrial(long studyId, int number)
    {
        lock (_lock)
        {
            var trials = Study(studyId).Trials;
            return number >= 0 && number < trials.Count ? Freeze(trials[number]) : null;
        }
    }

    public IReadOnlyList<FrozenTrial> GetAllTrials(long studyId, IReadOnlyCollection<TrialState>? states = null)
    {
        lock (_lock) return [.. Study(studyId).Trials.Where(t => states is null || states.Contains(t.State)).Select(Freeze)];
    }

    public void Dispose() { }

    StudyRow Study(long id) =>
        id >= 1 && id <= _studies.Count ? _studies[(int)id - 1] : throw new GptSharpException($"no study with id {id} in this storage");

    TrialRow Trial(long id) => _trials.TryGetValue(id, out var row) ? row : throw new GptSharpException($"no trial with id {id} in this storage");

    TrialRow Running(long id)
    {
        var row = Trial(id);
        return row.State == TrialState.Running ? row
            : throw new GptSharpException($"trial {row.Number} of study \"{Study(row.StudyId).Info.Name}\" is {row.State.ToName()}, not running");
    }

    static FrozenTrial Freeze(TrialRow r) => new(r.Id, r.Number, r.State, r.Value,
        new Dictionary<string, Distribution>(r.Distributions), new Dictionary<string, double>(r.Params),
        new Dictionary<int, double>(r.Intermediate), new Dictionary<string, string>(r.UserAttrs),
        new Dictionary<string, string>(r.SystemAttrs), r.Started, r.Completed);
}
