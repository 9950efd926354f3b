using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace GptSharp.Tuning;

/// <summary>
/// An optimization: a named set of trials in a storage, a direction, a sampler that proposes parameters and a pruner
/// that stops bad trials early (Optuna's <c>Study</c>). Several workers, in one process or on many machines, may run
/// the same study through one storage; each call here is an atomic storage change, so they never take the same trial.
/// </summary>
public sealed class Study
{
    bool _stopRequested;

    Study(ITrialStorage storage, StudyInfo info, ISampler sampler, IPruner? pruner, HeartbeatOptions? heartbeat)
        => (Storage, Id, Name, Direction, Sampler, Pruner, Heartbeat) = (storage, info.Id, info.Name, info.Direction, sampler, pruner, heartbeat);

    public ITrialStorage Storage { get; }
    public long Id { get; }
    public string Name { get; }
    public StudyDirection Direction { get; }
    public ISampler Sampler { get; }
    /// <summary>Null: no pruning.</summary>
    public IPruner? Pruner { get; }
    /// <summary>Null: trials have no heartbeat and are never failed as stale.</summary>
    public HeartbeatOptions? Heartbeat { get; }
    /// <summary>This worker's name as trials record it: host:pid.</summary>
    public string Worker { get; init; } = $"{Environment.MachineName}:{Environment.ProcessId}";

    /// <summary>Creates a study (or with <paramref name="loadIfExists"/> joins the existing one of that name).</summary>
    public static Study Create(string name, ITrialStorage storage, ISampler sampler, IPruner? pruner = null,
        StudyDirection direction = StudyDirection.Minimize, bool loadIfExists = false, HeartbeatOptions? heartbeat = null)
    {
        if (string.IsNullOrWhiteSpace(name)) throw new GptSharpException("a study needs a name");
        return new Study(storage, storage.CreateStudy(name, direction, loadIfExists), sampler, pruner, heartbeat);
    }

    /// <summary>Joins an existing study; a clear error naming the studies there are when none has that name.</summary>
    public static Study Load(string name, ITrialStorage storage, ISampler sampler, IPruner? pruner = null, HeartbeatOptions? heartbeat = null)
    {
        var info = storage.FindStudy(name) ?? throw NoSuchStudy(name, storage);
        return new Study(storage, info, sampler, pruner, heartbeat);
    }

    /// <summary>The error for a study name that is not in the storage.</summary>
    public static GptSharpException NoSuchStudy(string name, ITrialStorage storage)
    {
        var names = storage.GetAllStudies().Select(s => s.Name).ToArray();
        var close = NameSuggestions.Closest(name, names);
        return new GptSharpException($"no study named \"{name}\" in this storage" +
            (close.Count > 0 ? $"; did you mean \"{close[0]}\"?" : names.Length == 0 ? " (it holds no studies)" : $" (it holds: {string.Join(", ", names.Take(10))})"));
    }

    /// <summary>The study's trials by number, optionally only those in <paramref name="states"/>.</summary>
    public IReadOnlyList<FrozenTrial> GetTrials(params TrialState[] states) => Storage.GetAllTrials(Id, states.Length == 0 ? null : states);

    /// <summary>All trials by number.</summary>
    public IReadOnlyList<FrozenTrial> Trials => GetTrials();

    /// <summary>The complete trial with the best value (the earliest among equals); a clear error when none is complete.</summary>
    public FrozenTrial BestTrial
    {
        get
        {
            FrozenTrial? best = null;
            foreach (var t in GetTrials(TrialState.Complete))
                if (best is null || Direction.IsBetter(t.Value!.Value, best.Value!.Value)) best = t;
            return best ?? throw new GptSharpException($"study \"{Name}\" has no complete trial yet");
        }
    }

    public double BestValue => BestTrial.Value!.Value;
    public IReadOnlyDictionary<string, object?> BestParams => BestTrial.Params;

    /// <summary>
    /// Adds a waiting trial whose parameters are fixed to <paramref name="parameters"/> (Optuna's <c>enqueue_trial</c>):
    /// the next worker to start a trial takes it; parameters it does not fix are sampled as usual.
    /// </summary>
    public int Enqueue(IReadOnlyDictionary<string, object?> parameters)
    {
        var fixedParams = new JsonObject();
        foreach (var (k, v) in parameters) fixedParams[k] = ToNode(k, v);
        return Storage.EnqueueTrial(Id, new Dictionary<string, string> { [FrozenTrial.FixedParamsKey] = fixedParams.ToJsonString() });
    }

    /// <summary>
    /// Starts a trial (Optuna's <c>ask</c>): fails stale trials first when heartbeats are on, takes a waiting trial or
    /// creates one, and draws the sampler's joint parameters. Null when the study may start no more trials
    /// (<paramref name="maxTrials"/> reached, or a grid is exhausted).
    /// </summary>
    public Trial? Ask(int? maxTrials = null)
    {
        if (Heartbeat is { } hb) Storage.FailStaleTrials(Id, hb.Grace, hb.Requeue);
        Sampler.BeforeStudyTrial(this);
        var frozen = Storage.StartTrial(Id, new TrialStart(Worker, maxTrials, Sampler.OnlyEnqueuedTrials, Heartbeat is not null));
        return frozen is null ? null : new Trial(this, frozen);
    }

    /// <summary>
    /// Finishes trial <paramref name="number"/> (Optuna's <c>tell</c>): complete with <paramref name="value"/>, pruned
    /// (with <paramref name="value"/> or else its last reported value) or failed. A clear error when the trial does not
    /// exist or is already finished; nothing changes then.
    /// </summary>
    public FrozenTrial Tell(int number, TrialState state, double? value = null)
    {
        var trial = Storage.GetTrial(Id, number) ?? throw new GptSharpException($"study \"{Name}\" has no trial {number}");
        if (trial.State.IsFinished()) throw new GptSharpException($"trial {number} of study \"{Name}\" is already {trial.State.ToName()}");
        if (trial.State == TrialState.Waiting) throw new GptSharpException($"trial {number} of study \"{Name}\" is waiting: it has not been asked yet");
        switch (state)
        {
            case TrialState.Complete when value is not { } v || !double.IsFinite(v):
                throw new GptSharpException($"a complete trial needs a finite value, got {(value is { } x ? Distribution.Format(x) : "none")}");
            case TrialState.Complete or TrialState.Fail:
                break;
            case TrialState.Pruned:
                value ??= trial.LastStep is { } last ? trial.IntermediateValues[last] : null;
                if (value is { } p && !double.IsFinite(p)) value = null;
                break;
            default:
                throw new GptSharpException($"a trial is told complete, pruned or fail, not {state.ToName()}");
        }
        Storage.FinishTrial(trial.Id, state, state == TrialState.Fail ? null : value);
        var finished = Storage.GetTrial(Id, number)!;
        Sampler.AfterTrial(this, finished, state, finished.Value);
        return finished;
    }

    /// <summary>Finishes <paramref name="trial"/> as complete with <paramref name="value"/>.</summary>
    public FrozenTrial Tell(Trial trial, double value) => Tell(trial.Number, TrialState.Complete, value);

    /// <summary>Makes a running <see cref="OptimizeAsync"/> end after its current trial (Optuna's <c>study.stop</c>).</summary>
    public void Stop() => _stopRequested = true;

    /// <summary>Runs <paramref name="objective"/> on new trials, one after another (see <see cref="OptimizeAsync"/>).</summary>
    public int Optimize(Func<Trial, double> objective, int? nTrials = null, TimeSpan? timeout = null, CancellationToken ct = default) =>
        OptimizeAsync((t, _) => Task.FromResult(objective(t)), new OptimizeOptions { Trials = nTrials, Timeout = timeout }, ct)
            .GetAwaiter().GetResult();

    /// <summary>
    /// Runs <paramref name="objective"/> on new trials until <see cref="OptimizeOptions.Trials"/> have run here, the
    /// study holds <see cref="OptimizeOptions.MaxTrials"/> (with heartbeats: and no trial runs elsewhere any more, since
    /// one whose worker died comes back), the timeout passes, <see cref="Stop"/> is called, the
    /// sampler has nothing left, or <paramref name="ct"/> is cancelled. An objective that throws
    /// <see cref="TrialPrunedException"/> is pruned; one that returns NaN or throws is failed (and the exception
    /// rethrown unless <see cref="OptimizeOptions.CatchExceptions"/>); cancellation fails the running trial and
    /// rethrows. Returns how many trials this call finished.
    /// </summary>
    public async Task<int> OptimizeAsync(Func<Trial, CancellationToken, Task<double>> objective, OptimizeOptions? options = null, CancellationToken ct = default)
    {
        options ??= new OptimizeOptions();
        _stopRequested = false;
        var clock = Stopwatch.StartNew();
        int done = 0;
        while (!_stopRequested && (options.Trials is not { } n || done < n) && (options.Timeout is not { } limit || clock.Elapsed < limit))
        {
            ct.ThrowIfCancellationRequested();
            var trial = Ask(options.MaxTrials);
            if (trial is null)
            {
                // The budget is spent or the grid used up, but a trial still running elsewhere may yet fail (its worker
                // dead) and come back re-queued: with heartbeats to tell, wait for the running ones to end.
                if (Heartbeat is { } hb && GetTrials(TrialState.Running).Count > 0)
                {
                    await Task.Delay(TimeSpan.FromTicks(Math.Min(hb.Interval.Ticks, TimeSpan.FromSeconds(1).Ticks)), ct).ConfigureAwait(false);
                    continue;
                }
                break;
            }
            var finished = await RunTrialAsync(trial, objective, options, ct).ConfigureAwait(false);
            done++;
            foreach (var callback in options.Callbacks) callback(this, finished);
        }
        return done;
    }

    async Task<FrozenTrial> RunTrialAsync(Trial trial, Func<Trial, CancellationToken, Task<double>> objective, OptimizeOptions options, CancellationToken ct)
    {
        using var beat = Heartbeat is { } hb ? new Timer(_ => BeatQuietly(trial.Id), null, hb.Interval, hb.Interval) : null;
        double value;
        try
        {
            value = await objective(trial, ct).ConfigureAwait(false);
        }
        catch (TrialPrunedException)
        {
            beat?.Dispose();
            return Tell(trial.Number, TrialState.Pruned);
        }
        catch (Exception e)
        {
            beat?.Dispose();
            trial.SetSystemAttrQuietly(StorageRules.FailReasonKey, e is GptSharpException ? e.Message : $"{e.GetType().Name}: {e.Message}");
            var failed = Tell(trial.Number, TrialState.Fail);
            if (e is OperationCanceledException || !options.CatchExceptions) throw;
            return failed;
        }
        beat?.Dispose();
        if (!double.IsFinite(value))
        {
            trial.SetSystemAttrQuietly(StorageRules.FailReasonKey, $"the objective returned {value}");
            return Tell(trial.Number, TrialState.Fail);
        }
        return Tell(trial.Number, TrialState.Complete, value);
    }

    void BeatQuietly(long trialId)
    {
        // A missed beat is retried at the next tick; the grace period covers a few.
        try { Storage.RecordHeartbeat(trialId); } catch (Exception) { }
    }

    internal static JsonNode? ToNode(string name, object? v) => v switch
    {
        null => null,
        string s => JsonValue.Create(s),
        bool b => JsonValue.Create(b),
        int i => JsonValue.Create((long)i),
        long l => JsonValue.Create(l),
        double d when double.IsFinite(d) => JsonValue.Create(d),
        float f when float.IsFinite(f) => JsonValue.Create((double)f),
        JsonNode n => n.DeepClone(),
        _ => throw new GptSharpException($"parameter \"{name}\": {v} cannot be a parameter value (use a number, string, boolean or null)"),
    };

    /// <summary>A JSON value as a parameter value: string, bool, long, double or null.</summary>
    public static object? FromNode(JsonNode? n) => n switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        JsonValue v when v.GetValueKind() is JsonValueKind.True or JsonValueKind.False => v.GetValue<bool>(),
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var l) => l,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number => v.GetValue<double>(),
        _ => n.ToJsonString(),
    };
}
