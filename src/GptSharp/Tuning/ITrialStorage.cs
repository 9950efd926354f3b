namespace GptSharp.Tuning;

/// <summary>
/// Where studies and trials live (Optuna's <c>BaseStorage</c>, cut to what the tuner needs). Every method is one
/// atomic change: implementations for several processes (SQLite) and several machines (PostgreSQL) run each in one
/// transaction, so two workers never take the same waiting trial, never both finish a trial, and never hand out the same
/// trial number. Methods that change a trial refuse (a <see cref="GptSharpException"/>) when the trial is no longer
/// running, so a late worker cannot overwrite a trial that was failed as stale. Heartbeat times are the storage's own
/// clock (the database server's), so the workers' clocks need not agree.
/// </summary>
public interface ITrialStorage : IDisposable
{
    /// <summary>Creates a study, or returns the existing one of that name when <paramref name="loadIfExists"/>; a clear error when it exists and may not be loaded, or exists with the other direction.</summary>
    StudyInfo CreateStudy(string name, StudyDirection direction, bool loadIfExists);

    /// <summary>The study of that name, or null.</summary>
    StudyInfo? FindStudy(string name);

    /// <summary>Every study, oldest first.</summary>
    IReadOnlyList<StudyInfo> GetAllStudies();

    /// <summary>Sets a study-level attribute (JSON text), e.g. the recorded search space.</summary>
    void SetStudySystemAttr(long studyId, string key, string json);

    /// <summary>The study-level attributes.</summary>
    IReadOnlyDictionary<string, string> GetStudySystemAttrs(long studyId);

    /// <summary>Adds a waiting trial with these system attributes (e.g. <see cref="FrozenTrial.FixedParamsKey"/>); returns its number.</summary>
    int EnqueueTrial(long studyId, IReadOnlyDictionary<string, string> systemAttrs);

    /// <summary>
    /// Adds waiting trials once per <paramref name="key"/>: the first caller inserts them all, later callers (other
    /// workers) change nothing and get false. A grid sampler's points go in this way, so each is run exactly once.
    /// </summary>
    bool EnqueueTrialsOnce(long studyId, string key, IReadOnlyList<IReadOnlyDictionary<string, string>> systemAttrs);

    /// <summary>
    /// Starts a trial (see <see cref="TrialStart"/>): takes the oldest waiting trial, or when there is none and
    /// <see cref="TrialStart.OnlyWaiting"/> is false, creates a running one with the next number. Null when
    /// <see cref="TrialStart.MaxTrials"/> is reached (trials running, complete or pruned; failed ones do not count, their
    /// place is taken again), or when only waiting trials may be taken and none is left. With
    /// <see cref="TrialStart.Heartbeat"/> the trial's first heartbeat is recorded in the same transaction.
    /// </summary>
    FrozenTrial? StartTrial(long studyId, TrialStart start);

    /// <summary>Records a parameter of a running trial; a clear error when the study's earlier trials drew it from a distribution of another kind (<see cref="Distribution.CheckCompatible"/>).</summary>
    void SetTrialParam(long trialId, string name, Distribution distribution, double internalValue);

    /// <summary>Records (or replaces) the value a running trial reports at <paramref name="step"/>.</summary>
    void SetTrialIntermediateValue(long trialId, int step, double value);

    /// <summary>Sets a user attribute (JSON text) of a running trial.</summary>
    void SetTrialUserAttr(long trialId, string key, string json);

    /// <summary>Sets a system attribute (JSON text) of a running trial.</summary>
    void SetTrialSystemAttr(long trialId, string key, string json);

    /// <summary>
    /// Finishes a running trial as complete (with its value), pruned (value: its last reported one, or null) or failed.
    /// A clear error when the trial is already finished or still waiting; nothing changes then.
    /// </summary>
    void FinishTrial(long trialId, TrialState state, double? value);

    /// <summary>Records that the worker running this trial is alive (storage clock).</summary>
    void RecordHeartbeat(long trialId);

    /// <summary>
    /// Fails every running trial of the study whose last heartbeat is older than <paramref name="grace"/> (trials that
    /// never recorded one are left alone: ask/tell trials have no heartbeat), and with <paramref name="requeue"/> adds a
    /// waiting copy of each with the same parameters (<see cref="FrozenTrial.FixedParamsKey"/>, <see cref="FrozenTrial.RetriedFromKey"/>),
    /// in the same transaction. Returns the trials this call failed.
    /// </summary>
    IReadOnlyList<FrozenTrial> FailStaleTrials(long studyId, TimeSpan grace, bool requeue);

    /// <summary>The trial of that number, or null.</summary>
    FrozenTrial? GetTrial(long studyId, int number);

    /// <summary>The study's trials by number, optionally only those in <paramref name="states"/>.</summary>
    IReadOnlyList<FrozenTrial> GetAllTrials(long studyId, IReadOnlyCollection<TrialState>? states = null);
}
