using GptSharp.Tuning;
using GptSharp.Tuning.Samplers;
using GptSharp.Tuning.Storages;

namespace GptSharp.Tests.Tuning;

public class StudyTests
{
    static Study NewStudy(StudyDirection direction = StudyDirection.Minimize, ISampler? sampler = null, IPruner? pruner = null, ITrialStorage? storage = null) =>
        Study.Create("s", storage ?? new InMemoryStorage(), sampler ?? new RandomSampler(1), pruner, direction);

    [Fact]
    public void OptimizeRunsTheTrialsAndKeepsTheBest()
    {
        var study = NewStudy();
        int n = study.Optimize(t => Math.Pow(t.SuggestFloat("x", -10, 10) - 2, 2), nTrials: 30);
        Assert.Equal(30, n);
        Assert.Equal(30, study.GetTrials(TrialState.Complete).Count);
        var best = study.BestTrial;
        Assert.Equal(study.Trials.Where(t => t.Value.HasValue).Min(t => t.Value), best.Value);
        Assert.Equal(Math.Pow((double)best.Params["x"]! - 2, 2), best.Value!.Value, 12);
        Assert.Equal(Enumerable.Range(0, 30), study.Trials.Select(t => t.Number));
    }

    [Fact]
    public void MaximizeTakesTheLargestValue()
    {
        var study = NewStudy(StudyDirection.Maximize);
        study.Optimize(t => t.SuggestInt("k", 0, 100), nTrials: 20);
        Assert.Equal(study.Trials.Max(t => t.Value), study.BestValue);
    }

    [Fact]
    public void SuggestionsStayInTheirDistributions()
    {
        var study = NewStudy();
        study.Optimize(t =>
        {
            double lr = t.SuggestFloat("lr", 1e-5, 1e-2, log: true);
            double d = t.SuggestFloat("d", 0, 1, step: 0.25);
            int layers = t.SuggestInt("layers", 2, 12, step: 2);
            int width = t.SuggestInt("width", 16, 1024, log: true);
            string opt = t.SuggestCategorical("opt", ["adamw", "sgd"]);
            Assert.InRange(lr, 1e-5, 1e-2);
            Assert.Contains(d, new[] { 0, 0.25, 0.5, 0.75, 1 });
            Assert.True(layers % 2 == 0 && layers is >= 2 and <= 12);
            Assert.InRange(width, 16, 1024);
            Assert.Contains(opt, new[] { "adamw", "sgd" });
            Assert.Equal(lr, t.SuggestFloat("lr", 1e-5, 1e-2, log: true)); // the same parameter twice: the same value
            return lr;
        }, nTrials: 40);
        Assert.Equal(40, study.GetTrials(TrialState.Complete).Count);
    }

    [Fact]
    public void TheSameSeedGivesTheSameStudy()
    {
        double[] Run() { var s = NewStudy(sampler: new RandomSampler(7)); s.Optimize(t => t.SuggestFloat("x", 0, 1), nTrials: 5); return [.. s.Trials.Select(t => t.Value!.Value)]; }
        Assert.Equal(Run(), Run());
        var other = NewStudy(sampler: new RandomSampler(8));
        other.Optimize(t => t.SuggestFloat("x", 0, 1), nTrials: 5);
        Assert.NotEqual(Run(), other.Trials.Select(t => t.Value!.Value).ToArray());
    }

    [Fact]
    public void AnEnqueuedTrialRunsFirstWithItsFixedParameters()
    {
        var study = NewStudy();
        study.Enqueue(new Dictionary<string, object?> { ["x"] = 0.5, ["opt"] = "sgd" });
        study.Optimize(t => t.SuggestFloat("x", 0, 1) + (t.SuggestCategorical("opt", ["adamw", "sgd"]) == "sgd" ? 1 : 0) + t.SuggestFloat("y", 0, 1), nTrials: 2);
        var first = study.Trials[0];
        Assert.Equal(0.5, first.Params["x"]);
        Assert.Equal("sgd", first.Params["opt"]);
        Assert.InRange((double)first.Params["y"]!, 0, 1); // not fixed: sampled
    }

    [Fact]
    public void AnEnqueuedValueOutsideTheDistributionFailsClearly()
    {
        var study = NewStudy();
        study.Enqueue(new Dictionary<string, object?> { ["x"] = 5.0 });
        var e = Assert.Throws<GptSharpException>(() => study.Optimize(t => t.SuggestFloat("x", 0, 1), nTrials: 1));
        Assert.Contains("\"x\"", e.Message);
        Assert.Equal(TrialState.Fail, study.Trials[0].State);
    }

    [Fact]
    public void AskAndTellByNumber()
    {
        var study = NewStudy();
        var a = study.Ask()!;
        var b = study.Ask()!;
        a.SuggestFloat("x", 0, 1);
        b.Report(10, 3.0);
        study.Tell(b.Number, TrialState.Pruned);
        study.Tell(a, 1.5);
        Assert.Equal(TrialState.Pruned, study.Trials[1].State);
        Assert.Equal(3.0, study.Trials[1].Value); // a pruned trial keeps its last reported value
        Assert.Equal(1.5, study.BestValue);
        var again = Assert.Throws<GptSharpException>(() => study.Tell(a.Number, TrialState.Complete, 2));
        Assert.Contains("already complete", again.Message);
        Assert.Equal(1.5, study.Trials[0].Value);
        Assert.Throws<GptSharpException>(() => study.Tell(99, TrialState.Complete, 1));
        Assert.Throws<GptSharpException>(() => study.Tell(study.Ask()!.Number, TrialState.Complete, double.NaN));
    }

    [Fact]
    public void PruningRecordsThePrunedStateAndTheLastValue()
    {
        var study = NewStudy(pruner: new AlwaysAfter(2));
        study.Optimize(t =>
        {
            for (int step = 1; step <= 5; step++)
            {
                t.Report(step, 10 - step);
                if (t.ShouldPrune()) throw new TrialPrunedException();
            }
            return 0;
        }, nTrials: 3);
        Assert.All(study.Trials, t => Assert.Equal(TrialState.Pruned, t.State));
        Assert.All(study.Trials, t => Assert.Equal(8, t.Value));
        Assert.All(study.Trials, t => Assert.Equal(2, t.LastStep));
    }

    [Fact]
    public async Task AFailingObjectiveIsRecordedAndRethrownUnlessCaught()
    {
        var study = NewStudy();
        Assert.Throws<InvalidOperationException>(() => study.Optimize(_ => throw new InvalidOperationException("boom"), nTrials: 3));
        Assert.Single(study.Trials);
        Assert.Equal(TrialState.Fail, study.Trials[0].State);
        Assert.Contains("boom", study.Trials[0].SystemAttrs[StorageRules.FailReasonKey]);

        int n = await study.OptimizeAsync((t, _) => t.Number % 2 == 0 ? throw new InvalidOperationException() : Task.FromResult(double.NaN),
            new OptimizeOptions { Trials = 4, CatchExceptions = true });
        Assert.Equal(4, n);
        Assert.All(study.Trials, t => Assert.Equal(TrialState.Fail, t.State));
    }

    [Fact]
    public async Task MaxTrialsIsTheStudysBudgetAcrossCalls()
    {
        var study = NewStudy();
        var options = new OptimizeOptions { MaxTrials = 5 };
        await study.OptimizeAsync((t, _) => Task.FromResult(t.SuggestFloat("x", 0, 1)), options);
        int more = await study.OptimizeAsync((t, _) => Task.FromResult(t.SuggestFloat("x", 0, 1)), options);
        Assert.Equal(0, more);
        Assert.Equal(5, study.Trials.Count);
    }

    [Fact]
    public void ADistributionOfAnotherKindForTheSameNameIsRefused()
    {
        var study = NewStudy();
        study.Optimize(t => t.SuggestFloat("lr", 1e-4, 1e-2, log: true), nTrials: 1);
        var e = Assert.Throws<GptSharpException>(() => study.Optimize(t => t.SuggestInt("lr", 1, 5), nTrials: 1));
        Assert.Contains("\"lr\"", e.Message);
    }

    [Fact]
    public void StaleTrialsAreFailedAndRequeuedWithTheirParameters()
    {
        var now = DateTimeOffset.UnixEpoch;
        var storage = new InMemoryStorage { Clock = () => now };
        var hb = new HeartbeatOptions(TimeSpan.FromSeconds(10), Requeue: true);
        var dead = Study.Create("s", storage, new RandomSampler(1), heartbeat: hb);
        var t0 = dead.Ask()!;
        double x = t0.SuggestFloat("x", 0, 1);
        now += TimeSpan.FromSeconds(60); // the worker died: no heartbeat since

        var alive = Study.Load("s", storage, new RandomSampler(2), heartbeat: hb);
        alive.Optimize(t => t.SuggestFloat("x", 0, 1), nTrials: 1);
        Assert.Equal(TrialState.Fail, alive.Trials[0].State);
        Assert.Equal(TrialState.Complete, alive.Trials[1].State);
        Assert.Equal(x, alive.Trials[1].Params["x"]);
        Assert.Equal("0", alive.Trials[1].SystemAttrs[FrozenTrial.RetriedFromKey]);
        Assert.Throws<GptSharpException>(() => dead.Tell(t0, 0.1)); // the late worker cannot overwrite it
    }

    [Fact]
    public void LoadingAMissingStudyNamesTheOnesThere()
    {
        var storage = new InMemoryStorage();
        Study.Create("lr-sweep", storage, new RandomSampler());
        var e = Assert.Throws<GptSharpException>(() => Study.Load("lr-swep", storage, new RandomSampler()));
        Assert.Contains("lr-sweep", e.Message);
        Assert.Throws<GptSharpException>(() => Study.Create("lr-sweep", storage, new RandomSampler()));
        Assert.Throws<GptSharpException>(() => Study.Create("lr-sweep", storage, new RandomSampler(), direction: StudyDirection.Maximize, loadIfExists: true));
    }

    sealed class AlwaysAfter(int step) : IPruner
    {
        public bool Prune(Study study, FrozenTrial trial) => trial.LastStep >= step;
    }
}
