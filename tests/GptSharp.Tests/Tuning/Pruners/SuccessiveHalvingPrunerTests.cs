using System.Globalization;
using GptSharp.Tuning;
using GptSharp.Tuning.Pruners;
using static GptSharp.Tests.Tuning.Pruners.PrunerHistory;

namespace GptSharp.Tests.Tuning.Pruners;

// Expected decisions hand-computed with Optuna's rules (optuna/pruners/_successive_halving.py): at the end of rung k a
// trial goes on when its value is within the best max(⌊n/η⌋, 1) of the n values recorded at rung k (itself included).
public class SuccessiveHalvingPrunerTests
{
    static double Rung(Study study, int number, int rung) =>
        double.Parse(SystemAttrs(study, number)[SuccessiveHalvingPruner.RungKey(rung)], CultureInfo.InvariantCulture);

    [Fact]
    public void PromotesTheTopQuarterAtTheFirstRung()
    {
        // min_resource 100, η 4: rung 0 ends at step 100, rung 1 at 400. Trials arrive one by one; kept ones keep running.
        var study = NewStudy(new SuccessiveHalvingPruner(minResource: 100));
        double[] values = [5, 6, 4, 4.5, 7, 3, 8, 4];
        // n=1..3: only the best so far goes on; n=4..7: the best one; n=8: the best two (3 and 4; the tie at 4 goes on).
        bool[] pruned = [false, true, false, true, true, false, true, false];
        for (int i = 0; i < values.Length; i++)
        {
            var trial = Running(study, (50, 0)); // before the end of rung 0: never judged
            Assert.Equal(pruned[i], ReportAndAsk(trial, 100, values[i]));
            if (pruned[i]) study.Tell(trial.Number, TrialState.Pruned); // pruned trials' rung values still compete
        }
        for (int i = 0; i < values.Length; i++) Assert.Equal(values[i], Rung(study, i, 0));
        Assert.All(study.Trials, t => Assert.False(t.SystemAttrs.ContainsKey(SuccessiveHalvingPruner.RungKey(1))));
    }

    [Fact]
    public void MaximizeKeepsTheLargestValues()
    {
        var study = NewStudy(new SuccessiveHalvingPruner(minResource: 100), StudyDirection.Maximize);
        double[] values = [5, 6, 4, 4.5, 7, 3, 8, 7];
        bool[] pruned = [false, false, true, true, false, true, false, false]; // n=8: the best two are 8 and 7 (tie kept)
        for (int i = 0; i < values.Length; i++) Assert.Equal(pruned[i], ReportAndAsk(Running(study), 100, values[i]));
    }

    [Fact]
    public void ARungIsJudgedOnceWithTheValueWhereTheTrialReachedIt()
    {
        var study = NewStudy(new SuccessiveHalvingPruner(minResource: 100));
        var first = Running(study);
        Assert.False(ReportAndAsk(first, 100, 5));
        // Between rung ends nothing is judged nor recorded again, however bad the value.
        Assert.False(ReportAndAsk(first, 200, 50));
        Assert.False(ReportAndAsk(first, 300, 50));
        Assert.Equal(5, Rung(study, first.Number, 0));
        // The second trial competes with the 5 recorded at rung 0, not with the first trial's later values.
        Assert.True(ReportAndAsk(Running(study), 100, 6));
        Assert.False(ReportAndAsk(Running(study), 100, 4.9));
        // At rung 1 (step 400) the first trial is alone there: it goes on.
        Assert.False(ReportAndAsk(first, 400, 50));
        Assert.Equal(50, Rung(study, first.Number, 1));
        var second = Running(study);
        Assert.False(ReportAndAsk(second, 100, 1));
        Assert.True(ReportAndAsk(second, 400, 51)); // loses to the first trial's 50 at rung 1
    }

    [Fact]
    public void ASparseReportPassesSeveralRungEndsWithItsValue()
    {
        // min_resource 1, η 4: rungs end at 1, 4, 16, 64. The first report, at step 50, completes rungs 0–2.
        var study = NewStudy(new SuccessiveHalvingPruner(minResource: 1));
        var first = Running(study);
        Assert.False(ReportAndAsk(first, 50, 2));
        Assert.Equal([2.0, 2.0, 2.0], [Rung(study, 0, 0), Rung(study, 0, 1), Rung(study, 0, 2)]);
        Assert.False(SystemAttrs(study, 0).ContainsKey(SuccessiveHalvingPruner.RungKey(3)));
        // A worse trial stops at the first rung it loses.
        Assert.True(ReportAndAsk(Running(study), 50, 3));
        Assert.False(SystemAttrs(study, 1).ContainsKey(SuccessiveHalvingPruner.RungKey(1)));
        // At 100 the first trial completes rung 3 (64), alone there.
        Assert.False(ReportAndAsk(first, 100, 2.5));
        Assert.Equal(2.5, Rung(study, 0, 3));
    }

    [Fact]
    public void MinEarlyStoppingRateDelaysTheFirstRung()
    {
        // s = 1: the first rung ends at 100·4 = 400.
        var study = NewStudy(new SuccessiveHalvingPruner(minResource: 100, minEarlyStoppingRate: 1));
        Assert.False(ReportAndAsk(Running(study), 400, 1));
        var bad = Running(study);
        foreach (int step in new[] { 100, 200, 300 }) Assert.False(ReportAndAsk(bad, step, 9));
        Assert.True(ReportAndAsk(bad, 400, 9));
        Assert.Equal(9, Rung(study, bad.Number, 0));
    }

    [Fact]
    public void BootstrapPrunesUntilEnoughTrialsReachedTheRung()
    {
        var study = NewStudy(new SuccessiveHalvingPruner(minResource: 100, bootstrapCount: 2));
        Assert.True(ReportAndAsk(Running(study), 100, 1));  // 1 ≤ 2 reached rung 0
        Assert.True(ReportAndAsk(Running(study), 100, 1));  // 2 ≤ 2
        Assert.False(ReportAndAsk(Running(study), 100, 0.5)); // 3 > 2: the best of three goes on
    }

    [Fact]
    public void AutoMinResourceWaitsForACompleteTrial()
    {
        var pruner = new SuccessiveHalvingPruner();
        var study = NewStudy(pruner);
        var early = Running(study);
        Assert.False(ReportAndAsk(early, 10, 100));
        Assert.Null(pruner.MinResource);
        Assert.Empty(SystemAttrs(study, early.Number));
        Complete(study, (500, 1), (1000, 1)); // longest complete trial: 1000 steps → min_resource 10
        var next = Running(study);
        Assert.False(ReportAndAsk(next, 10, 3));
        Assert.Equal(10, pruner.MinResource);
        Assert.Equal(3, Rung(study, next.Number, 0));
        Assert.True(ReportAndAsk(Running(study), 10, 4));
        Assert.Equal(2, SuccessiveHalvingPruner.EstimateMinResource([Complete(NewStudy(new NopPruner()), (250, 1))]));
        Assert.Equal(1, SuccessiveHalvingPruner.EstimateMinResource([Complete(NewStudy(new NopPruner()), (50, 1))]));
    }

    [Fact]
    public void NaNAtARungEndIsPruned()
    {
        var study = NewStudy(new SuccessiveHalvingPruner(minResource: 100));
        // Trial.Report keeps non-finite values as the worst; a NaN written straight to the storage is pruned at a rung end.
        var trial = Running(study);
        study.Storage.SetTrialIntermediateValue(trial.Id, 100, double.NaN);
        Assert.True(study.Pruner!.Prune(study, study.Storage.GetTrial(study.Id, trial.Number)!));
        Assert.False(study.Pruner!.Prune(study, Running(study, (50, double.NaN)).Frozen));
    }

    [Fact]
    public void PrunesInsideOptimizeAndSavesSteps()
    {
        // Evaluations every 50 steps up to 800; the loss curve's level is set by x, so bad x are stopped early.
        var study = NewStudy(new SuccessiveHalvingPruner(minResource: 50));
        int steps = 0;
        study.Optimize(t =>
        {
            double x = t.SuggestFloat("x", 0, 1);
            double loss = 0;
            for (int step = 50; step <= 800; step += 50)
            {
                steps += 50;
                loss = x + 1.0 / step;
                t.Report(step, loss);
                if (t.ShouldPrune()) throw new TrialPrunedException();
            }
            return loss;
        }, nTrials: 30);
        var pruned = study.GetTrials(TrialState.Pruned);
        Assert.NotEmpty(pruned);
        Assert.All(pruned, t => Assert.True(t.LastStep < 800));
        Assert.True(steps < 30 * 800 * 0.6, $"ran {steps} steps");
        // Each pruned trial lost at its last rung to a better value recorded there.
        Assert.All(pruned, t => Assert.Contains(study.Trials, o => (double)o.Params["x"]! < (double)t.Params["x"]!));
    }

    [Theory]
    [InlineData(0, 4, 0, 0)]
    [InlineData(1, 1, 0, 0)]
    [InlineData(1, 4, -1, 0)]
    [InlineData(1, 4, 0, -1)]
    [InlineData(null, 4, 0, 1)]
    public void BadOptionsAreClearErrors(int? minResource, int reductionFactor, int rate, int bootstrap)
    {
        var e = Assert.Throws<GptSharpException>(() => new SuccessiveHalvingPruner(minResource, reductionFactor, rate, bootstrap));
        Assert.Contains("pruner", e.Message);
    }
}
