using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;
using GptSharp.Tuning;
using GptSharp.Tuning.Storages;
using Xunit.Abstractions;

namespace GptSharp.Tests.Tuning.Storages;

/// <summary>
/// What every <see cref="ITrialStorage"/> must do, run against each (InMemory, SQLite, PostgreSQL). The race tests give
/// each thread its own storage instance (its own connection) on the same store, as separate workers would have.
/// </summary>
public abstract class TrialStorageContract(ITestOutputHelper output) : IDisposable
{
    readonly List<ITrialStorage> _opened = [];
    Func<ITrialStorage>? _connect;

    protected ITestOutputHelper Output { get; } = output;

    /// <summary>A fresh empty store: a function that opens one more instance onto it. Null when the backend is not installed (the test then returns).</summary>
    protected abstract Func<ITrialStorage>? NewStore();

    /// <summary>The first instance on a fresh store, or null (backend not installed: the test returns early).</summary>
    protected ITrialStorage? Open()
    {
        _connect = NewStore();
        return _connect is null ? null : Another();
    }

    /// <summary>Another instance on the store <see cref="Open"/> made (another worker).</summary>
    protected ITrialStorage Another()
    {
        var s = _connect!();
        lock (_opened) _opened.Add(s);
        return s;
    }

    public virtual void Dispose()
    {
        foreach (var s in _opened) s.Dispose();
        GC.SuppressFinalize(this);
    }

    static readonly TrialStart Start = new("test:1");

    static IReadOnlyDictionary<string, string> Attrs(params (string Key, string Json)[] pairs) => pairs.ToDictionary(p => p.Key, p => p.Json);

    [Fact]
    public void StudiesAreCreatedFoundAndListed()
    {
        if (Open() is not { } s) return;
        var a = s.CreateStudy("alpha", StudyDirection.Minimize, false);
        var b = s.CreateStudy("beta", StudyDirection.Maximize, false);
        Assert.NotEqual(a.Id, b.Id);
        Assert.Equal(b, s.FindStudy("beta"));
        Assert.Null(s.FindStudy("gamma"));
        Assert.Equal(["alpha", "beta"], s.GetAllStudies().Select(x => x.Name));
        Assert.Equal(StudyDirection.Maximize, s.GetAllStudies()[1].Direction);

        Assert.Contains("already exists", Assert.Throws<GptSharpException>(() => s.CreateStudy("alpha", StudyDirection.Minimize, false)).Message);
        Assert.Equal(a, s.CreateStudy("alpha", StudyDirection.Minimize, true));
        Assert.Contains("direction", Assert.Throws<GptSharpException>(() => s.CreateStudy("alpha", StudyDirection.Maximize, true)).Message);
        Assert.Equal(2, s.GetAllStudies().Count);
        Assert.Throws<GptSharpException>(() => s.GetAllTrials(a.Id + b.Id + 100));
    }

    [Fact]
    public void StudySystemAttributesAreKeptAndReplaced()
    {
        if (Open() is not { } s) return;
        var study = s.CreateStudy("s", StudyDirection.Minimize, false);
        Assert.Empty(s.GetStudySystemAttrs(study.Id));
        s.SetStudySystemAttr(study.Id, "search_space", "{\"x\":1}");
        s.SetStudySystemAttr(study.Id, "other", "[1,2]");
        s.SetStudySystemAttr(study.Id, "search_space", "{\"x\":2}");
        var attrs = s.GetStudySystemAttrs(study.Id);
        Assert.Equal(2, attrs.Count);
        Assert.Equal("{\"x\":2}", attrs["search_space"]);
        Assert.Equal("[1,2]", attrs["other"]);
    }

    [Fact]
    public void WaitingTrialsAreTakenOldestFirstThenNewOnesAreCreated()
    {
        if (Open() is not { } s) return;
        var study = s.CreateStudy("s", StudyDirection.Minimize, false);
        Assert.Equal(0, s.EnqueueTrial(study.Id, Attrs(("fixed_params", "{\"x\":1}"))));
        Assert.Equal(1, s.EnqueueTrial(study.Id, Attrs(("fixed_params", "{\"x\":2}"))));
        Assert.All(s.GetAllTrials(study.Id), t => Assert.Equal(TrialState.Waiting, t.State));
        Assert.Null(s.GetTrial(study.Id, 0)!.Started);

        var first = s.StartTrial(study.Id, Start)!;
        Assert.Equal((0, TrialState.Running, "{\"x\":1}"), (first.Number, first.State, first.SystemAttrs["fixed_params"]));
        Assert.NotNull(first.Started);
        Assert.Equal(1, s.StartTrial(study.Id, Start with { OnlyWaiting = true })!.Number);
        Assert.Null(s.StartTrial(study.Id, Start with { OnlyWaiting = true }));
        var created = s.StartTrial(study.Id, Start)!;
        Assert.Equal(2, created.Number);
        Assert.Empty(created.SystemAttrs);
        Assert.Equal(3, s.GetAllTrials(study.Id).Count);
        Assert.Equal(3, s.EnqueueTrial(study.Id, Attrs()));
    }

    [Fact]
    public void TheBudgetCountsRunningCompleteAndPrunedTrialsButNotFailedOrWaitingOnes()
    {
        if (Open() is not { } s) return;
        var study = s.CreateStudy("s", StudyDirection.Minimize, false);
        var budget = Start with { MaxTrials = 3 };
        var a = s.StartTrial(study.Id, budget)!;
        var b = s.StartTrial(study.Id, budget)!;
        var c = s.StartTrial(study.Id, budget)!;
        Assert.Null(s.StartTrial(study.Id, budget));
        s.FinishTrial(a.Id, TrialState.Complete, 1.0);
        s.FinishTrial(b.Id, TrialState.Pruned, null);
        Assert.Null(s.StartTrial(study.Id, budget));
        s.FinishTrial(c.Id, TrialState.Fail, null);
        s.EnqueueTrial(study.Id, Attrs());
        var d = s.StartTrial(study.Id, budget)!; // the failed trial's place, taken by the waiting one
        Assert.Equal(3, d.Number);
        Assert.Null(s.StartTrial(study.Id, budget));
        Assert.Null(s.StartTrial(study.Id, Start with { MaxTrials = 0 }));
        Assert.Equal(4, s.GetAllTrials(study.Id).Count);
    }

    [Fact]
    public void ParametersValuesAndAttributesRoundTripExactly()
    {
        if (Open() is not { } s) return;
        var study = s.CreateStudy("s", StudyDirection.Minimize, false);
        var trial = s.StartTrial(study.Id, Start)!;
        double[] exact = [0.1 + 0.2, 1e-300, Math.PI * 1e20, -2.5e-7, 1.0 / 3.0];
        var lr = new FloatDistribution(1e-5, 1e-1, log: true);
        var opt = new CategoricalDistribution(["adamw", "sgd", 3L, null]);
        // Suggested in this order: z, lr, a, opt (not alphabetical), kept so.
        s.SetTrialParam(trial.Id, "z", new FloatDistribution(-1, 1), exact[0]);
        s.SetTrialParam(trial.Id, "lr", lr, 1e-5 * Math.E);
        s.SetTrialParam(trial.Id, "a", new IntDistribution(1, 64, step: 3), 61);
        s.SetTrialParam(trial.Id, "opt", opt, 3);
        for (int i = 0; i < exact.Length; i++) s.SetTrialIntermediateValue(trial.Id, i * 10, exact[i]);
        s.SetTrialIntermediateValue(trial.Id, 50, 1.0);
        s.SetTrialIntermediateValue(trial.Id, 50, 7.25); // replaces step 50
        s.SetTrialUserAttr(trial.Id, "note", "\"hello\"");
        s.SetTrialSystemAttr(trial.Id, "k", "{\"a\":[1,2]}");
        s.FinishTrial(trial.Id, TrialState.Complete, exact[4]);

        var t = s.GetTrial(study.Id, 0)!;
        Assert.Equal(["z", "lr", "a", "opt"], t.InternalParams.Keys);
        Assert.Equal(exact[0], t.InternalParams["z"]);
        Assert.Equal(1e-5 * Math.E, t.InternalParams["lr"]);
        Assert.Equal(lr, t.Distributions["lr"]);
        Assert.Equal(opt, t.Distributions["opt"]);
        Assert.Equal(new IntDistribution(1, 64, step: 3), t.Distributions["a"]);
        Assert.Equal(61L, t.Params["a"]);
        Assert.Null(t.Params["opt"]);
        Assert.Equal([0, 10, 20, 30, 40, 50], t.IntermediateValues.Keys.Order());
        Assert.Equal(7.25, t.IntermediateValues[50]);
        Assert.Equal(exact[1], t.IntermediateValues[10]);
        Assert.Equal(exact[2], t.IntermediateValues[20]);
        Assert.Equal(exact[4], t.IntermediateValues[40]);
        Assert.Equal(exact[0], t.IntermediateValues[0]);
        Assert.Equal(exact[3], t.IntermediateValues[30]);
        Assert.Equal(exact[4], t.Value);
        Assert.Equal("\"hello\"", t.UserAttrs["note"]);
        Assert.Equal("{\"a\":[1,2]}", t.SystemAttrs["k"]);
        Assert.Equal(TrialState.Complete, t.State);
        Assert.True(t.Completed >= t.Started);
        Assert.InRange(t.Started!.Value, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5));
    }

    [Fact]
    public void AParameterMustKeepItsKindAcrossTrials()
    {
        if (Open() is not { } s) return;
        var study = s.CreateStudy("s", StudyDirection.Minimize, false);
        var first = s.StartTrial(study.Id, Start)!;
        s.SetTrialParam(first.Id, "lr", new FloatDistribution(1e-4, 1e-1, log: true), 0.01);
        s.SetTrialParam(first.Id, "opt", new CategoricalDistribution(["a", "b"]), 1);
        var second = s.StartTrial(study.Id, Start)!;
        s.SetTrialParam(second.Id, "lr", new FloatDistribution(1e-5, 1.0, log: true), 0.5); // a moved range is fine
        var e = Assert.Throws<GptSharpException>(() => s.SetTrialParam(second.Id, "opt", new CategoricalDistribution(["a", "c"]), 0));
        Assert.Contains("\"opt\"", e.Message);
        var third = s.StartTrial(study.Id, Start)!;
        Assert.Throws<GptSharpException>(() => s.SetTrialParam(third.Id, "lr", new FloatDistribution(1e-4, 1e-1), 0.01));
        Assert.Throws<GptSharpException>(() => s.SetTrialParam(third.Id, "lr", new IntDistribution(1, 5), 2));
        Assert.Throws<GptSharpException>(() => s.SetTrialParam(third.Id, "opt", new CategoricalDistribution(["a", "b"]), 2)); // no index 2
        Assert.Empty(s.GetTrial(study.Id, 2)!.InternalParams);
        Assert.Equal(["lr"], s.GetTrial(study.Id, 1)!.InternalParams.Keys);
    }

    [Fact]
    public void AFinishedOrWaitingTrialCannotChange()
    {
        if (Open() is not { } s) return;
        var study = s.CreateStudy("s", StudyDirection.Minimize, false);
        var trial = s.StartTrial(study.Id, Start)!;
        s.SetTrialIntermediateValue(trial.Id, 1, 0.5);
        Assert.Throws<GptSharpException>(() => s.FinishTrial(trial.Id, TrialState.Running, null));
        s.FinishTrial(trial.Id, TrialState.Pruned, 0.5);
        var e = Assert.Throws<GptSharpException>(() => s.FinishTrial(trial.Id, TrialState.Complete, 2.0));
        Assert.Contains("pruned", e.Message);
        Assert.Throws<GptSharpException>(() => s.SetTrialParam(trial.Id, "x", new FloatDistribution(0, 1), 0.5));
        Assert.Throws<GptSharpException>(() => s.SetTrialIntermediateValue(trial.Id, 2, 0.1));
        Assert.Throws<GptSharpException>(() => s.SetTrialUserAttr(trial.Id, "k", "1"));
        Assert.Throws<GptSharpException>(() => s.SetTrialSystemAttr(trial.Id, "k", "1"));
        s.RecordHeartbeat(trial.Id); // a late beat changes nothing
        var t = s.GetTrial(study.Id, 0)!;
        Assert.Equal((TrialState.Pruned, (double?)0.5, 1), (t.State, t.Value, t.IntermediateValues.Count));
        Assert.Empty(t.UserAttrs);

        s.EnqueueTrial(study.Id, Attrs());
        var waiting = s.GetTrial(study.Id, 1)!;
        Assert.Contains("waiting", Assert.Throws<GptSharpException>(() => s.FinishTrial(waiting.Id, TrialState.Complete, 1)).Message);
        Assert.Throws<GptSharpException>(() => s.SetTrialUserAttr(waiting.Id, "k", "1"));
        Assert.Equal(TrialState.Waiting, s.GetTrial(study.Id, 1)!.State);
        Assert.Throws<GptSharpException>(() => s.FinishTrial(waiting.Id + 1000, TrialState.Complete, 1));
    }

    [Fact]
    public void TrialsAreListedByNumberAndFilteredByState()
    {
        if (Open() is not { } s) return;
        var study = s.CreateStudy("s", StudyDirection.Minimize, false);
        var other = s.CreateStudy("other", StudyDirection.Minimize, false);
        for (int i = 0; i < 5; i++)
        {
            var t = s.StartTrial(study.Id, Start)!;
            if (i % 2 == 0) s.FinishTrial(t.Id, TrialState.Complete, i);
        }
        s.StartTrial(other.Id, Start);
        Assert.Equal([0, 1, 2, 3, 4], s.GetAllTrials(study.Id).Select(t => t.Number));
        Assert.Equal([0, 2, 4], s.GetAllTrials(study.Id, [TrialState.Complete]).Select(t => t.Number));
        Assert.Equal([0, 1, 2, 3, 4], s.GetAllTrials(study.Id, [TrialState.Complete, TrialState.Running]).Select(t => t.Number));
        Assert.Empty(s.GetAllTrials(study.Id, [TrialState.Waiting]));
        Assert.Single(s.GetAllTrials(other.Id));
        Assert.Null(s.GetTrial(study.Id, 5));
        Assert.Equal(4.0, s.GetTrial(study.Id, 4)!.Value);
    }

    [Fact]
    public void StaleTrialsAreFailedAndRequeuedWithTheirParameters()
    {
        if (Open() is not { } s) return;
        var study = s.CreateStudy("s", StudyDirection.Minimize, false);
        var beat = Start with { Heartbeat = true };
        s.EnqueueTrial(study.Id, Attrs(("fixed_params", "{\"fixed\":\"yes\",\"x\":0.25}")));
        var stale = s.StartTrial(study.Id, beat)!;
        s.SetTrialParam(stale.Id, "x", new FloatDistribution(0, 1), 0.25);
        s.SetTrialParam(stale.Id, "lr", new FloatDistribution(1e-5, 1, log: true), 0.1 + 0.2);
        s.SetTrialParam(stale.Id, "opt", new CategoricalDistribution(["adamw", "sgd"]), 1);
        s.SetTrialParam(stale.Id, "n", new IntDistribution(1, 8), 7);
        var silent = s.StartTrial(study.Id, Start)!; // no heartbeat (ask/tell): never stale
        var alive = s.StartTrial(study.Id, beat)!;
        Assert.Empty(s.FailStaleTrials(study.Id, TimeSpan.FromHours(1), true));
        Thread.Sleep(1000);
        s.RecordHeartbeat(alive.Id);

        var failed = s.FailStaleTrials(study.Id, TimeSpan.FromSeconds(0.5), true);
        Assert.Equal([stale.Number], failed.Select(t => t.Number));
        Assert.Equal(TrialState.Fail, failed[0].State);
        Assert.Equal(StorageRules.StaleReasonJson, failed[0].SystemAttrs[StorageRules.FailReasonKey]);
        Assert.Empty(s.FailStaleTrials(study.Id, TimeSpan.FromSeconds(0.5), true));
        Assert.Equal(TrialState.Running, s.GetTrial(study.Id, silent.Number)!.State);
        Assert.Equal(TrialState.Running, s.GetTrial(study.Id, alive.Number)!.State);
        Assert.Throws<GptSharpException>(() => s.FinishTrial(stale.Id, TrialState.Complete, 1)); // the late worker loses

        var copy = Assert.Single(s.GetAllTrials(study.Id, [TrialState.Waiting]));
        Assert.Equal(3, copy.Number);
        Assert.Equal("0", copy.SystemAttrs[FrozenTrial.RetriedFromKey]);
        var fixedParams = JsonNode.Parse(copy.SystemAttrs[FrozenTrial.FixedParamsKey])!.AsObject();
        Assert.Equal(["fixed", "lr", "n", "opt", "x"], fixedParams.Select(p => p.Key).Order());
        Assert.Equal(0.1 + 0.2, fixedParams["lr"]!.GetValue<double>());
        Assert.Equal(7, fixedParams["n"]!.GetValue<long>());
        Assert.Equal("sgd", fixedParams["opt"]!.GetValue<string>());
        Assert.Equal("yes", fixedParams["fixed"]!.GetValue<string>());
        Assert.Equal(3, s.StartTrial(study.Id, Start)!.Number);
    }

    static string LoadAverage() => File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "?";

    // ---- races: each thread its own storage instance, released together

    static void Together(int threads, Action<int> body)
    {
        using var barrier = new Barrier(threads);
        var errors = new ConcurrentBag<Exception>();
        var workers = Enumerable.Range(0, threads).Select(i => new Thread(() =>
        {
            try { barrier.SignalAndWait(); body(i); }
            catch (Exception e) { errors.Add(e); }
        })).ToArray();
        foreach (var w in workers) w.Start();
        foreach (var w in workers) w.Join();
        if (!errors.IsEmpty) throw new AggregateException(errors);
    }

    ITrialStorage[] Workers(int n) => [.. Enumerable.Range(0, n).Select(_ => Another())];

    [Fact]
    public void RacingWorkersNeverShareANumberNorExceedTheBudget()
    {
        if (Open() is not { } s) return;
        var study = s.CreateStudy("s", StudyDirection.Minimize, false);
        var workers = Workers(4);
        var taken = new ConcurrentBag<(int Number, int Worker)>();
        Together(4, w =>
        {
            var start = new TrialStart($"w{w}", MaxTrials: 24);
            for (int k = 0; workers[w].StartTrial(study.Id, start) is { } t; k++)
            {
                taken.Add((t.Number, w));
                // Every third trial fails: its place in the budget is taken again.
                workers[w].FinishTrial(t.Id, k % 3 == 2 ? TrialState.Fail : TrialState.Complete, k % 3 == 2 ? null : k);
            }
        });
        var numbers = taken.Select(t => t.Number).Order().ToArray();
        Assert.Equal(Enumerable.Range(0, numbers.Length), numbers); // unique and gapless
        var trials = s.GetAllTrials(study.Id);
        Assert.Equal(numbers.Length, trials.Count);
        Assert.Equal(24, trials.Count(t => t.State == TrialState.Complete));
        Assert.DoesNotContain(trials, t => t.State is TrialState.Running or TrialState.Waiting);
    }

    [Fact]
    public void RacingWorkersTakeEachWaitingTrialOnce()
    {
        if (Open() is not { } s) return;
        var study = s.CreateStudy("s", StudyDirection.Minimize, false);
        for (int i = 0; i < 40; i++) s.EnqueueTrial(study.Id, Attrs(("fixed_params", $"{{\"i\":{i}}}")));
        var workers = Workers(4);
        var taken = new ConcurrentBag<int>();
        Together(4, w =>
        {
            var start = new TrialStart($"w{w}", OnlyWaiting: true);
            while (workers[w].StartTrial(study.Id, start) is { } t)
            {
                Assert.Equal($"{{\"i\":{t.Number}}}", t.SystemAttrs["fixed_params"]);
                taken.Add(t.Number);
                workers[w].FinishTrial(t.Id, TrialState.Complete, t.Number);
            }
        });
        Assert.Equal(Enumerable.Range(0, 40), taken.Order());
        Assert.Equal(40, s.GetAllTrials(study.Id, [TrialState.Complete]).Count);
        Assert.Equal(40, s.GetAllTrials(study.Id).Count);
    }

    [Fact]
    public void RacingEnqueueOnceInsertsOneSet()
    {
        if (Open() is not { } s) return;
        var study = s.CreateStudy("s", StudyDirection.Minimize, false);
        var workers = Workers(4);
        var grid = Enumerable.Range(0, 6).Select(i => Attrs(("grid_id", $"{i}"))).ToArray();
        var won = new ConcurrentBag<int>();
        Together(4, w => { if (workers[w].EnqueueTrialsOnce(study.Id, "grid", grid)) won.Add(w); });
        Assert.Single(won);
        Assert.Equal(Enumerable.Range(0, 6).Select(i => $"{i}"), s.GetAllTrials(study.Id).Select(t => t.SystemAttrs["grid_id"]));
        Assert.False(s.EnqueueTrialsOnce(study.Id, "grid", grid));
        Assert.True(s.EnqueueTrialsOnce(study.Id, "grid2", grid[..2]));
        Assert.Equal(8, s.GetAllTrials(study.Id, [TrialState.Waiting]).Count);
    }

    [Fact]
    public void OnlyOneOfRacingFinishersWins()
    {
        if (Open() is not { } s) return;
        var study = s.CreateStudy("s", StudyDirection.Minimize, false);
        var workers = Workers(4);
        for (int round = 0; round < 5; round++)
        {
            var trial = s.StartTrial(study.Id, Start)!;
            var winners = new ConcurrentBag<int>();
            int refused = 0;
            Together(4, w =>
            {
                try { workers[w].FinishTrial(trial.Id, TrialState.Complete, w + 0.5); winners.Add(w); }
                catch (GptSharpException) { Interlocked.Increment(ref refused); }
            });
            int winner = Assert.Single(winners);
            Assert.Equal(3, refused);
            Assert.Equal(winner + 0.5, s.GetTrial(study.Id, trial.Number)!.Value);
        }
    }

    [Fact]
    public void RacingStaleCheckersFailAndRequeueATrialOnce()
    {
        if (Open() is not { } s) return;
        var study = s.CreateStudy("s", StudyDirection.Minimize, false);
        var trial = s.StartTrial(study.Id, Start with { Heartbeat = true })!;
        s.SetTrialParam(trial.Id, "x", new FloatDistribution(0, 1), 1.0 / 7);
        Thread.Sleep(400);
        var workers = Workers(4);
        var failed = new ConcurrentBag<int>();
        Together(4, w => { foreach (var t in workers[w].FailStaleTrials(study.Id, TimeSpan.FromSeconds(0.2), true)) failed.Add(t.Number); });
        Assert.Equal([trial.Number], failed);
        var copy = Assert.Single(s.GetAllTrials(study.Id, [TrialState.Waiting]));
        Assert.Equal(1.0 / 7, JsonNode.Parse(copy.SystemAttrs[FrozenTrial.FixedParamsKey])!["x"]!.GetValue<double>());
        Assert.Equal(2, s.GetAllTrials(study.Id).Count);
    }

    [Fact]
    public void ReadingAThousandTrialsIsFast()
    {
        if (Open() is not { } s) return;
        var study = s.CreateStudy("s", StudyDirection.Minimize, false);
        var clock = Stopwatch.StartNew();
        var space = new Distribution[]
        {
            new FloatDistribution(1e-5, 1e-1, log: true), new FloatDistribution(0, 1), new IntDistribution(1, 64),
            new CategoricalDistribution(["a", "b", "c"]), new FloatDistribution(0, 0.5, step: 0.05),
        };
        var random = new Random(7);
        for (int i = 0; i < 1000; i++)
        {
            var t = s.StartTrial(study.Id, Start)!;
            for (int p = 0; p < space.Length; p++)
                s.SetTrialParam(t.Id, $"p{p}", space[p], p switch { 0 => 1e-3, 1 => random.NextDouble(), 2 => random.Next(1, 65), 3 => random.Next(3), _ => 0.25 });
            s.FinishTrial(t.Id, TrialState.Complete, random.NextDouble());
        }
        var written = clock.Elapsed;
        clock.Restart();
        var all = s.GetAllTrials(study.Id);
        var read = clock.Elapsed;
        clock.Restart();
        s.GetAllTrials(study.Id, [TrialState.Complete]);
        var again = clock.Elapsed;
        Assert.Equal(1000, all.Count);
        Assert.All(all, t => Assert.Equal(5, t.InternalParams.Count));
        Output.WriteLine($"{GetType().Name}: wrote 1000 trials x 5 params in {written.TotalMilliseconds:0} ms ({written.TotalMilliseconds / 7000:0.000} ms a call; load average {LoadAverage()}); " +
            $"GetAllTrials {read.TotalMilliseconds:0} ms, again {again.TotalMilliseconds:0} ms");
    }
}

/// <summary>The contract against <see cref="InMemoryStorage"/>, the reference; its "workers" share the one instance.</summary>
public sealed class InMemoryStorageContractTests(ITestOutputHelper output) : TrialStorageContract(output)
{
    protected override Func<ITrialStorage>? NewStore()
    {
        var storage = new InMemoryStorage();
        return () => storage;
    }
}
