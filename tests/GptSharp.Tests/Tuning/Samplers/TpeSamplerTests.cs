using System.Diagnostics;
using GptSharp.Tuning;
using GptSharp.Tuning.Samplers;
using GptSharp.Tuning.Storages;

namespace GptSharp.Tests.Tuning.Samplers;

public class TpeSamplerTests
{
    static FrozenTrial Frozen(int number, TrialState state, double? value = null, Dictionary<int, double>? intermediate = null) =>
        new(number, number, state, value, new Dictionary<string, Distribution> { ["x"] = new FloatDistribution(0, 1) },
            new Dictionary<string, double> { ["x"] = 0.5 }, intermediate ?? [], new Dictionary<string, string>(), new Dictionary<string, string>(), null, null);

    static int[] Numbers(IEnumerable<FrozenTrial> trials) => [.. trials.Select(t => t.Number)];

    [Fact]
    public void GammaIsATenthRoundedUpAtMost25()
    {
        Assert.Equal(0, TpeOptions.DefaultGamma(0));
        Assert.Equal(1, TpeOptions.DefaultGamma(10));
        Assert.Equal(2, TpeOptions.DefaultGamma(11));
        Assert.Equal(10, TpeOptions.DefaultGamma(100));
        Assert.Equal(25, TpeOptions.DefaultGamma(1000));
    }

    [Fact]
    public void CompleteTrialsSplitByValueInTheStudysDirectionEachSideInTrialOrder()
    {
        double[] values = [5, 1, 3, 2, 4];
        var trials = values.Select((v, i) => Frozen(i, TrialState.Complete, v)).ToList();
        var (below, above) = TpeSampler.Split(trials, StudyDirection.Minimize, 2);
        Assert.Equal([1, 3], Numbers(below));
        Assert.Equal([0, 2, 4], Numbers(above));
        (below, above) = TpeSampler.Split(trials, StudyDirection.Maximize, 2);
        Assert.Equal([0, 4], Numbers(below));
        Assert.Equal([1, 2, 3], Numbers(above));
    }

    [Fact]
    public void PrunedTrialsRankAfterCompleteOnesByLastStepThenLastValue()
    {
        var trials = new List<FrozenTrial>
        {
            Frozen(0, TrialState.Complete, 10), Frozen(1, TrialState.Complete, 20),
            Frozen(2, TrialState.Pruned, null, new() { [1] = 0.1, [5] = 100 }), // pruned early, however good
            Frozen(3, TrialState.Pruned, null, new() { [9] = 500 }),
            Frozen(4, TrialState.Pruned, null, new() { [3] = 1e9, [9] = 1 }),   // its last value counts, not its worst
            Frozen(5, TrialState.Pruned),                                       // reported nothing: after all that did
            Frozen(6, TrialState.Pruned, null, new() { [9] = double.NaN }),     // NaN: worst at its step
            Frozen(7, TrialState.Running),                                      // the constant liar's: always above
        };
        Assert.Equal([0, 1, 3, 4], Numbers(TpeSampler.Split(trials, StudyDirection.Minimize, 4).Below));
        Assert.Equal([0, 1, 4], Numbers(TpeSampler.Split(trials, StudyDirection.Minimize, 3).Below));
        Assert.Equal([0, 1, 3, 4, 6], Numbers(TpeSampler.Split(trials, StudyDirection.Minimize, 5).Below));
        Assert.Equal([0, 1, 2, 3, 4, 6], Numbers(TpeSampler.Split(trials, StudyDirection.Minimize, 6).Below));
        var (below, above) = TpeSampler.Split(trials, StudyDirection.Minimize, 7);
        Assert.Equal([0, 1, 2, 3, 4, 5, 6], Numbers(below));
        Assert.Equal([7], Numbers(above));
        // Maximizing: the larger value is better, among complete trials and among pruned ones at the same step;
        // a complete trial still beats any pruned one.
        Assert.Equal([1], Numbers(TpeSampler.Split(trials, StudyDirection.Maximize, 1).Below));
        Assert.Equal([0, 1, 3], Numbers(TpeSampler.Split(trials, StudyDirection.Maximize, 3).Below));
    }

    static double Branin(Trial t)
    {
        double x = t.SuggestFloat("x", -5, 10), y = t.SuggestFloat("y", 0, 15);
        double b = 5.1 / (4 * Math.PI * Math.PI), c = 5 / Math.PI, s = 1 / (8 * Math.PI);
        return Math.Pow(y - b * x * x + c * x - 6, 2) + 10 * (1 - s) * Math.Cos(x) + 10; // minimum 0.397887
    }

    static double Best(ISampler sampler, Func<Trial, double> objective, int trials)
    {
        var study = Study.Create("s", new InMemoryStorage(), sampler);
        study.Optimize(objective, nTrials: trials);
        return study.BestValue;
    }

    static double Median(IEnumerable<double> xs)
    {
        var s = xs.Order().ToArray();
        return s[s.Length / 2];
    }

    [Fact]
    public void OnBraninTpeBeatsRandomSearchsMedianOverFiveSeeds()
    {
        int[] seeds = [0, 1, 2, 3, 4];
        double random = Median(seeds.Select(s => Best(new RandomSampler(s), Branin, 100)));
        double tpe = Median(seeds.Select(s => Best(new TpeSampler(new TpeOptions { Seed = s }), Branin, 100)));
        double multivariate = Median(seeds.Select(s => Best(new TpeSampler(new TpeOptions { Seed = s, Multivariate = true }), Branin, 100)));
        Assert.True(tpe < random, $"TPE median best {tpe} vs random {random}");
        Assert.True(multivariate < random, $"multivariate TPE median best {multivariate} vs random {random}");
        Assert.True(tpe < 1.0, $"TPE median best {tpe}");
    }

    [Fact]
    public void OnAShiftedQuadraticWithIntegersAndChoicesTpeBeatsRandomSearch()
    {
        static double Objective(Trial t)
        {
            double lr = t.SuggestFloat("lr", 1e-5, 1e-1, log: true);
            int layers = t.SuggestInt("layers", 1, 16);
            string opt = t.SuggestCategorical("opt", ["sgd", "adamw", "lion"]);
            return Math.Pow(Math.Log10(lr) + 3, 2) + Math.Pow(layers - 11, 2) / 10 + (opt == "adamw" ? 0 : 1);
        }
        int[] seeds = [0, 1, 2, 3, 4];
        double random = Median(seeds.Select(s => Best(new RandomSampler(s), Objective, 60)));
        double tpe = Median(seeds.Select(s => Best(new TpeSampler(new TpeOptions { Seed = s }), Objective, 60)));
        Assert.True(tpe < random, $"TPE median best {tpe} vs random {random}");
    }

    [Fact]
    public void TheSameSeedGivesTheSameTrialsAndAnotherSeedOthers()
    {
        static string[] Run(int seed, bool multivariate)
        {
            var study = Study.Create("s", new InMemoryStorage(), new TpeSampler(new TpeOptions { Seed = seed, Multivariate = multivariate }));
            study.Optimize(t => Branin(t) + t.SuggestInt("n", 1, 5) + (t.SuggestCategorical("c", [true, false]) ? 1 : 0), nTrials: 25);
            return [.. study.Trials.Select(t => string.Join(",", t.Params.Select(p => $"{p.Key}={p.Value}")))];
        }
        Assert.Equal(Run(7, false), Run(7, false));
        Assert.Equal(Run(7, true), Run(7, true));
        Assert.NotEqual(Run(7, false), Run(8, false));
        // Startup trials are those of a random sampler with the same seed.
        var random = Study.Create("r", new InMemoryStorage(), new RandomSampler(7));
        random.Optimize(t => Branin(t) + t.SuggestInt("n", 1, 5) + (t.SuggestCategorical("c", [true, false]) ? 1 : 0), nTrials: 10);
        Assert.Equal(random.Trials.Select(t => string.Join(",", t.Params.Select(p => $"{p.Key}={p.Value}"))), Run(7, false).Take(10));
    }

    [Fact]
    public void SuggestionsStayInsideEveryKindOfDistribution()
    {
        var study = Study.Create("s", new InMemoryStorage(), new TpeSampler(new TpeOptions { Seed = 1, StartupTrials = 5 }));
        study.Optimize(t =>
        {
            double a = t.SuggestFloat("a", 1e-5, 1e-1, log: true);
            double b = t.SuggestFloat("b", 0, 1, step: 0.1);
            int c = t.SuggestInt("c", 1, 9, step: 2);
            int d = t.SuggestInt("d", 1, 1024, log: true);
            string e = t.SuggestCategorical("e", ["x", "y", "z"]);
            return Math.Abs(Math.Log10(a) + 2) + Math.Abs(b - 0.3) + c + Math.Log2(d) + (e == "z" ? 0 : 1);
        }, nTrials: 40);
        foreach (var t in study.Trials)
            foreach (var (name, v) in t.InternalParams)
                Assert.True(t.Distributions[name].Contains(v), $"trial {t.Number}: {name} = {v:R}");
        // TPE is exploiting: the later half picks the best choice more often than chance (1/3; 19 of 20 with this
        // seed, 3 to 19 over seeds 1-10) and keeps to the low end of c (2.4 on average with this seed; 5 at random).
        var late = study.Trials.Skip(20).ToArray();
        Assert.True(late.Count(t => (string)t.Params["e"]! == "z") > late.Length / 3);
        Assert.True(late.Average(t => (long)t.Params["c"]!) < 5);
    }

    [Fact]
    public void MultivariateSamplesTheParametersEveryFinishedTrialShares()
    {
        var sampler = new TpeSampler(new TpeOptions { Seed = 1, Multivariate = true, StartupTrials = 4 });
        var study = Study.Create("s", new InMemoryStorage(), sampler);
        // "x" always; "y" only in some trials; "z" with two different ranges; "k" single-valued.
        study.Optimize(t =>
        {
            double x = t.SuggestFloat("x", 0, 1);
            double y = t.Number % 2 == 0 ? t.SuggestFloat("y", 0, 1) : 0;
            double z = t.SuggestFloat("z", 0, t.Number < 3 ? 1 : 2);
            t.SuggestInt("k", 3, 3);
            return x + y + z;
        }, nTrials: 6);
        var trial = study.Ask()!;
        var space = sampler.InferRelativeSearchSpace(study, trial.Frozen);
        Assert.Equal(["x"], space.Keys);
        var joint = sampler.SampleRelative(study, trial.Frozen, space);
        Assert.Equal(["x"], joint.Keys);
        Assert.InRange(joint["x"], 0, 1);
        // Before the startup trials are done nothing is drawn jointly.
        var fresh = Study.Create("f", new InMemoryStorage(), new TpeSampler(new TpeOptions { Seed = 1, Multivariate = true }));
        fresh.Optimize(t => t.SuggestFloat("x", 0, 1), nTrials: 3);
        var early = fresh.Ask()!;
        Assert.Empty(fresh.Sampler.SampleRelative(fresh, early.Frozen, new Dictionary<string, Distribution> { ["x"] = new FloatDistribution(0, 1) }));
    }

    [Fact]
    public void TheConstantLiarSteersAwayFromPointsOtherWorkersAreRunning()
    {
        // Twenty other workers run trials at the optimum; how many of 20 new suggestions land on top of them?
        static int CrowdedDraws(bool liar, int seed)
        {
            var study = Study.Create("s", new InMemoryStorage(), new TpeSampler(new TpeOptions { Seed = seed, ConstantLiar = liar }));
            study.Optimize(t => Math.Pow(t.SuggestFloat("x", 0, 1) - 0.3, 2), nTrials: 30);
            for (int i = 0; i < 20; i++) study.Enqueue(new Dictionary<string, object?> { ["x"] = 0.3 });
            for (int i = 0; i < 20; i++) study.Ask()!.SuggestFloat("x", 0, 1);
            int crowded = 0;
            for (int i = 0; i < 20; i++) if (Math.Abs(study.Ask()!.SuggestFloat("x", 0, 1) - 0.3) < 0.03) crowded++; // left running too
            return crowded;
        }
        int with = Enumerable.Range(1, 10).Sum(seed => CrowdedDraws(true, seed)), without = Enumerable.Range(1, 10).Sum(seed => CrowdedDraws(false, seed));
        // 0 of 200 against 21 of 200 over these seeds.
        Assert.True(with * 4 < without, $"suggestions within 0.03 of the running trials' point: {with} with the liar, {without} without");
    }

    [Fact]
    public void ASamplerCallFetchesTheTrialsOncePerTrialAndStaysFastAtAThousand()
    {
        var storage = new CountingStorage();
        var space = (Trial t) =>
            t.SuggestFloat("a", 1e-5, 1e-1, log: true) + t.SuggestFloat("b", -1, 1) + t.SuggestInt("c", 1, 64)
            + t.SuggestFloat("d", 0, 1, step: 0.05) + (t.SuggestCategorical("e", ["x", "y", "z"]) == "x" ? 1 : 0);
        Study.Create("s", storage, new RandomSampler(1)).Optimize(space, nTrials: 1000);
        var study = Study.Load("s", storage, new TpeSampler(new TpeOptions { Seed = 1 }));
        storage.Calls = 0;
        var clock = Stopwatch.StartNew();
        study.Optimize(space, nTrials: 10);
        double perTrial = clock.Elapsed.TotalMilliseconds / 10;
        Assert.Equal(10, storage.Calls);
        Assert.True(perTrial < 200, $"{perTrial:F1} ms per trial with 1000 trials"); // a few ms on a free core
    }

    [Fact]
    public void BadOptionsAreClearErrors()
    {
        Assert.Contains("n_ei_candidates", Assert.Throws<GptSharpException>(() => new TpeSampler(new TpeOptions { EiCandidates = 0 })).Message);
        Assert.Contains("prior_weight", Assert.Throws<GptSharpException>(() => new TpeSampler(new TpeOptions { PriorWeight = 0 })).Message);
    }

    /// <summary>An in-memory storage that counts the reads of all trials.</summary>
    sealed class CountingStorage : ITrialStorage
    {
        readonly InMemoryStorage _inner = new();
        public int Calls;
        public IReadOnlyList<FrozenTrial> GetAllTrials(long studyId, IReadOnlyCollection<TrialState>? states = null)
        {
            Interlocked.Increment(ref Calls);
            return _inner.GetAllTrials(studyId, states);
        }
        public StudyInfo CreateStudy(string name, StudyDirection direction, bool loadIfExists) => _inner.CreateStudy(name, direction, loadIfExists);
        public StudyInfo? FindStudy(string name) => _inner.FindStudy(name);
        public IReadOnlyList<StudyInfo> GetAllStudies() => _inner.GetAllStudies();
        public void SetStudySystemAttr(long studyId, string key, string json) => _inner.SetStudySystemAttr(studyId, key, json);
        public IReadOnlyDictionary<string, string> GetStudySystemAttrs(long studyId) => _inner.GetStudySystemAttrs(studyId);
        public int EnqueueTrial(long studyId, IReadOnlyDictionary<string, string> systemAttrs) => _inner.EnqueueTrial(studyId, systemAttrs);
        public bool EnqueueTrialsOnce(long studyId, string key, IReadOnlyList<IReadOnlyDictionary<string, string>> systemAttrs) =>
            _inner.EnqueueTrialsOnce(studyId, key, systemAttrs);
        public FrozenTrial? StartTrial(long studyId, TrialStart start) => _inner.StartTrial(studyId, start);
        public void SetTrialParam(long trialId, string name, Distribution distribution, double internalValue) =>
            _inner.SetTrialParam(trialId, name, distribution, internalValue);
        public void SetTrialIntermediateValue(long trialId, int step, double value) => _inner.SetTrialIntermediateValue(trialId, step, value);
        public void SetTrialUserAttr(long trialId, string key, string json) => _inner.SetTrialUserAttr(trialId, key, json);
        public void SetTrialSystemAttr(long trialId, string key, string json) => _inner.SetTrialSystemAttr(trialId, key, json);
        public void FinishTrial(long trialId, TrialState state, double? value) => _inner.FinishTrial(trialId, state, value);
        public void RecordHeartbeat(long trialId) => _inner.RecordHeartbeat(trialId);
        public IReadOnlyList<FrozenTrial> FailStaleTrials(long studyId, TimeSpan grace, bool requeue) => _inner.FailStaleTrials(studyId, grace, requeue);
        public FrozenTrial? GetTrial(long studyId, int number) => _inner.GetTrial(studyId, number);
        public void Dispose() => _inner.Dispose();
    }
}
