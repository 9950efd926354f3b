using GptSharp.Tuning;
using GptSharp.Tuning.Pruners;
using static GptSharp.Tests.Tuning.Pruners.PrunerHistory;

namespace GptSharp.Tests.Tuning.Pruners;

// Brackets follow Optuna's HyperbandPruner (optuna/pruners/_hyperband.py); the expected assignments below were computed
// with Optuna's formula in Python: binascii.crc32(f"{study}_{number}") % total budget, walked through the budgets.
public class HyperbandPrunerTests
{
    [Theory]
    [InlineData(1, 9, 3, new[] { 9, 5, 3 })]
    [InlineData(1, 81, 3, new[] { 81, 34, 15, 8, 5 })]
    [InlineData(1, 243, 3, new[] { 81, 34, 15, 8, 5 })] // log₃ 243 is 4.999… in floating point: 5 brackets, as Optuna
    [InlineData(100, 1600, 4, new[] { 16, 6, 3 })]      // ⌈3·16/3⌉, ⌈3·4/2⌉, ⌈3/1⌉
    [InlineData(5, 5, 3, new[] { 1 })]
    public void BracketsAndTheirBudgets(int minResource, int maxResource, int reductionFactor, int[] budgets)
    {
        var pruner = new HyperbandPruner(minResource, maxResource, reductionFactor);
        Assert.Equal(budgets.Length, pruner.BracketCount);
        Assert.Equal(budgets, pruner.BracketBudgets);
    }

    [Fact]
    public void Crc32IsZlibs() => Assert.Equal(0xCBF43926u, HyperbandPruner.Crc32("123456789"));

    [Fact]
    public void AssignmentIsOptunasAndDeterministic()
    {
        int[] hb = [0, 0, 2, 2, 1, 1, 1, 2, 1, 0, 1, 0, 1, 1, 1, 0, 2, 0, 2, 0];
        int[] study = [1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0, 1, 0, 1, 0];
        var small = new HyperbandPruner(1, 9, 3);
        var large = new HyperbandPruner(1, 81, 3);
        Assert.Equal(hb, Enumerable.Range(0, 20).Select(n => small.BracketOf("hb", n)!.Value));
        Assert.Equal(study, Enumerable.Range(0, 20).Select(n => large.BracketOf("study", n)!.Value));
        var again = new HyperbandPruner(1, 81, 3);
        Assert.All(Enumerable.Range(0, 500), n => Assert.Equal(large.BracketOf("x", n), again.BracketOf("x", n)));
    }

    [Fact]
    public void TrialsAreSpreadInProportionToTheBudgets()
    {
        var pruner = new HyperbandPruner(1, 81, 3);
        const int n = 14300;
        var counts = new int[5];
        for (int i = 0; i < n; i++) counts[pruner.BracketOf("tune", i)!.Value]++;
        double total = pruner.BracketBudgets.Sum();
        for (int b = 0; b < 5; b++) Assert.InRange(counts[b] / (double)n, pruner.BracketBudgets[b] / total - 0.015, pruner.BracketBudgets[b] / total + 0.015);
    }

    [Fact]
    public void ABracketComparesOnlyWithItsOwnTrials()
    {
        // min 1, max 9, η 3 in study "hb": trials 0, 1 are in bracket 0 (rungs end at 1, 3, 9), 4, 5, 6 in bracket 1
        // (3, 9), 2 in bracket 2 (9).
        var pruner = new HyperbandPruner(1, 9, 3);
        var study = NewStudy(pruner, name: "hb");
        var trials = Enumerable.Range(0, 7).Select(_ => Running(study)).ToArray();
        Assert.False(ReportAndAsk(trials[4], 3, 0));
        Assert.False(ReportAndAsk(trials[5], 3, 0));
        // Bracket 1 recorded 0, 0 at its rung 0; bracket 0's first trial is alone in its bracket and goes on.
        Assert.False(ReportAndAsk(trials[0], 3, 5));
        Assert.True(ReportAndAsk(trials[1], 3, 6));   // loses to trial 0
        Assert.True(ReportAndAsk(trials[6], 3, 0.5)); // loses to 0, 0 of its own bracket
        // Bracket 2's first rung ends at 9: nothing judged at 3, however bad.
        Assert.False(ReportAndAsk(trials[2], 3, 100));
        Assert.Equal([0, 0, 2, 1, 1, 1], new[] { 0, 1, 2, 4, 5, 6 }.Select(n => int.Parse(SystemAttrs(study, n)[HyperbandPruner.BracketKey])));
        Assert.False(SystemAttrs(study, 2).ContainsKey(SuccessiveHalvingPruner.RungKey(0)));
        Assert.True(SystemAttrs(study, 0).ContainsKey(SuccessiveHalvingPruner.RungKey(1))); // passed rung ends 1 and 3
        Assert.False(SystemAttrs(study, 4).ContainsKey(SuccessiveHalvingPruner.RungKey(1)));
    }

    [Fact]
    public void AStoredBracketIsKept()
    {
        // Trial 1 hashes to bracket 0 but was put in bracket 2 (e.g. by a worker that counted brackets differently).
        var study = NewStudy(new HyperbandPruner(1, 9, 3), name: "hb");
        var first = Running(study);
        var second = Running(study);
        study.Storage.SetTrialSystemAttr(second.Id, HyperbandPruner.BracketKey, "2");
        Assert.False(ReportAndAsk(first, 3, 1));
        study.Storage.SetTrialIntermediateValue(second.Id, 3, 100);
        Assert.False(study.Pruner!.Prune(study, study.Storage.GetTrial(study.Id, second.Number)!)); // bracket 2: not judged before 9
        Assert.Equal("2", SystemAttrs(study, second.Number)[HyperbandPruner.BracketKey]);
    }

    [Fact]
    public void AutoMaxResourceWaitsForACompleteTrial()
    {
        var pruner = new HyperbandPruner(); // min 1, max auto, η 3
        var study = NewStudy(pruner);
        Assert.False(ReportAndAsk(Running(study), 80, 1e9));
        Assert.Null(pruner.BracketCount);
        Assert.Null(pruner.BracketOf("s", 0));
        Complete(study, (40, 1), (80, 1)); // max_resource 81: five brackets
        Running(study, (80, 1)).ShouldPrune();
        Assert.Equal(81, pruner.MaxResource);
        Assert.Equal([81, 34, 15, 8, 5], pruner.BracketBudgets);
    }

    [Theory]
    [InlineData(0, 9, 3, 0)]
    [InlineData(10, 9, 3, 0)]
    [InlineData(1, 9, 1, 0)]
    [InlineData(1, 9, 3, -1)]
    [InlineData(1, null, 3, 1)]
    public void BadOptionsAreClearErrors(int minResource, int? maxResource, int reductionFactor, int bootstrap)
    {
        var e = Assert.Throws<GptSharpException>(() => new HyperbandPruner(minResource, maxResource, reductionFactor, bootstrap));
        Assert.Contains("pruner", e.Message);
    }
}
