using GptSharp.Tuning;
using GptSharp.Tuning.Pruners;
using static GptSharp.Tests.Tuning.Pruners.PrunerHistory;

namespace GptSharp.Tests.Tuning.Pruners;

// Expected decisions follow Optuna's PercentilePruner (optuna/pruners/_percentile.py): the trial's best value over its
// reports against the percentile of the complete trials' values at the trial's latest step.
public class PercentilePrunerTests
{
    static Study WithCompleteTrials(IPruner pruner, StudyDirection direction, params double[] valuesAtStep50)
    {
        var study = NewStudy(pruner, direction);
        foreach (var v in valuesAtStep50) Complete(study, (50, v));
        return study;
    }

    [Theory]
    [InlineData(3.5, true)]
    [InlineData(3.0, false)] // at the median: kept (strictly worse is pruned)
    [InlineData(2.5, false)]
    public void MedianPrunesWorseThanTheMedianOfCompleteTrials(double value, bool pruned)
    {
        var study = WithCompleteTrials(new MedianPruner(), StudyDirection.Minimize, 1, 2, 3, 4, 5);
        Assert.Equal(pruned, ReportAndAsk(Running(study), 50, value));
    }

    [Fact]
    public void NoPruningUntilTheStartupTrialsAreComplete()
    {
        var study = WithCompleteTrials(new MedianPruner(nStartupTrials: 5), StudyDirection.Minimize, 1, 2, 3, 4);
        // Pruned and failed trials do not count towards the startup trials.
        Finished(study, TrialState.Pruned, (50, 0.5));
        Finished(study, TrialState.Fail, (50, 0.5));
        Assert.False(ReportAndAsk(Running(study), 50, 100));
        Complete(study, (50, 5));
        Assert.True(ReportAndAsk(Running(study), 50, 100));
    }

    [Fact]
    public void ComparesOnlyWithCompleteTrials()
    {
        // Complete trials reported 10 at step 50; pruned, failed and running ones reported 0.
        var study = WithCompleteTrials(new MedianPruner(nStartupTrials: 1), StudyDirection.Minimize, 10, 10, 10);
        for (int i = 0; i < 5; i++) Finished(study, TrialState.Pruned, (50, 0));
        Finished(study, TrialState.Fail, (50, 0));
        Running(study, (50, 0));
        Assert.False(ReportAndAsk(Running(study), 50, 9));
        Assert.True(ReportAndAsk(Running(study), 50, 11));
    }

    [Fact]
    public void UsesTheTrialsBestValueSoFarAgainstTheValuesAtTheLatestStep()
    {
        var study = NewStudy(new MedianPruner(nStartupTrials: 1));
        for (int i = 1; i <= 5; i++) Complete(study, (50, 10 * i), (100, i));
        var trial = Running(study);
        Assert.False(ReportAndAsk(trial, 50, 1)); // median at 50 is 30
        // At 100 the median is 3: the latest value 10 is worse, but the best so far (1) is not.
        Assert.False(ReportAndAsk(trial, 100, 10));
        var other = Running(study, (50, 25));
        Assert.True(ReportAndAsk(other, 100, 10));
    }

    [Fact]
    public void NoPruningBeforeTheWarmupStep()
    {
        var study = NewStudy(new MedianPruner(nStartupTrials: 1, nWarmupSteps: 100));
        Complete(study, (50, 1), (100, 1), (150, 1));
        var trial = Running(study);
        Assert.False(ReportAndAsk(trial, 50, 9));
        Assert.True(ReportAndAsk(trial, 100, 9));
    }

    [Fact]
    public void ChecksOnlyAtTheFirstReportOfEachInterval()
    {
        // Evaluations every 50 steps, checks every 100: the checks fall at 50 (the first report after 0), 100 and 200.
        var pruner = new MedianPruner(nStartupTrials: 1, intervalSteps: 100);
        var study = NewStudy(pruner);
        Complete(study, (50, 10), (100, 10), (150, 1), (200, 1));
        var trial = Running(study);
        Assert.False(ReportAndAsk(trial, 50, 5));
        Assert.False(ReportAndAsk(trial, 100, 5));
        Assert.False(ReportAndAsk(trial, 150, 5)); // worse than the median, but 150 is not a check
        Assert.True(ReportAndAsk(trial, 200, 5));

        // Every report is a check with the default interval.
        var every = NewStudy(new MedianPruner(nStartupTrials: 1));
        Complete(every, (50, 10), (100, 10), (150, 1), (200, 1));
        Assert.True(ReportAndAsk(Running(every, (50, 5), (100, 5)), 150, 5));
    }

    [Fact]
    public void IntervalsStartAtTheWarmupStep()
    {
        // warmup 30, interval 20: check points 30, 50, 70, …
        Assert.True(PercentilePruner.IsFirstInInterval(30, [30], 30, 20));
        Assert.True(PercentilePruner.IsFirstInInterval(40, [10, 20, 40], 30, 20)); // the first report at or after 30
        Assert.False(PercentilePruner.IsFirstInInterval(45, [10, 40, 45], 30, 20));
        Assert.True(PercentilePruner.IsFirstInInterval(50, [40, 45, 50], 30, 20));
        Assert.True(PercentilePruner.IsFirstInInterval(120, [40, 120], 30, 20)); // a skipped check is made at the next report
    }

    [Theory]
    [InlineData(StudyDirection.Minimize, 2.5, true)] // 25th percentile of 1..5 is 2
    [InlineData(StudyDirection.Minimize, 1.5, false)]
    [InlineData(StudyDirection.Maximize, 3.5, true)] // maximizing keeps the top quarter: the 75th percentile is 4
    [InlineData(StudyDirection.Maximize, 4.5, false)]
    public void PercentileKeepsTheBestShareInEitherDirection(StudyDirection direction, double value, bool pruned)
    {
        var study = WithCompleteTrials(new PercentilePruner(25, nStartupTrials: 1), direction, 5, 3, 1, 4, 2);
        Assert.Equal(pruned, ReportAndAsk(Running(study), 50, value));
    }

    [Fact]
    public void MaximizeUsesTheLargestValueSoFar()
    {
        var study = NewStudy(new MedianPruner(nStartupTrials: 1), StudyDirection.Maximize);
        Complete(study, (50, 5), (100, 5));
        var trial = Running(study, (50, 6));
        Assert.False(ReportAndAsk(trial, 100, 4));
    }

    [Fact]
    public void PercentileInterpolatesLinearlyAsNumpy()
    {
        Assert.Equal(2.5, PercentilePruner.PercentileOf([4, 1, 3, 2], 50), 12);
        Assert.Equal(1.75, PercentilePruner.PercentileOf([4, 1, 3, 2], 25), 12);
        Assert.Equal(4, PercentilePruner.PercentileOf([4, 1, double.NaN, 3, 2], 100), 12);
        Assert.Equal(1, PercentilePruner.PercentileOf([4, 1, 3, 2], 0), 12);
        Assert.True(double.IsNaN(PercentilePruner.PercentileOf([double.NaN], 50)));
    }

    [Fact]
    public void NeedsEnoughCompleteTrialsReportingAtTheStep()
    {
        var study = NewStudy(new MedianPruner(nStartupTrials: 1, nMinTrials: 3));
        Complete(study, (50, 1));
        Complete(study, (50, 1));
        Complete(study, (100, 1)); // reported elsewhere: does not count at 50
        var trial = Running(study);
        Assert.False(ReportAndAsk(trial, 50, 9));
        Complete(study, (50, 1));
        Assert.True(ReportAndAsk(Running(study), 50, 9));
        // No complete trial reported at this step at all: no decision.
        Assert.False(ReportAndAsk(Running(study), 75, 9));
    }

    [Fact]
    public void NothingReportedOrNothingCompleteNeverPrunes()
    {
        var study = NewStudy(new MedianPruner(nStartupTrials: 0));
        Assert.False(Running(study).ShouldPrune());
        Assert.False(ReportAndAsk(Running(study), 50, 1e9));
    }

    [Theory]
    [InlineData(-1, 5, 0, 1, 1)]
    [InlineData(101, 5, 0, 1, 1)]
    [InlineData(double.NaN, 5, 0, 1, 1)]
    [InlineData(50, -1, 0, 1, 1)]
    [InlineData(50, 5, -1, 1, 1)]
    [InlineData(50, 5, 0, 0, 1)]
    [InlineData(50, 5, 0, 1, 0)]
    public void BadOptionsAreClearErrors(double percentile, int startup, int warmup, int interval, int minTrials)
    {
        var e = Assert.Throws<GptSharpException>(() => new PercentilePruner(percentile, startup, warmup, interval, minTrials));
        Assert.Contains("pruner", e.Message);
    }
}
