using GptSharp.Tuning;
using GptSharp.Tuning.Samplers;
using GptSharp.Tuning.Storages;

namespace GptSharp.Tests.Tuning.Samplers;

public class GridSamplerTests
{
    static readonly Dictionary<string, IReadOnlyList<object?>> Grid = new()
    {
        ["lr"] = [1e-4, 1e-3, 1e-2],
        ["opt"] = ["adamw", "sgd"],
    };

    static double Objective(Trial t) => t.SuggestFloat("lr", 1e-5, 1e-1, log: true) * (t.SuggestCategorical("opt", ["adamw", "sgd"]) == "sgd" ? 2 : 1);

    [Fact]
    public void EveryPointRunsExactlyOnceThenTheStudyStops()
    {
        var study = Study.Create("g", new InMemoryStorage(), new GridSampler(Grid, seed: 3));
        int n = study.Optimize(Objective, nTrials: 100);
        Assert.Equal(6, n);
        var points = study.Trials.Select(t => $"{t.Params["lr"]}/{t.Params["opt"]}").ToArray();
        Assert.Equal(6, points.Distinct().Count());
    }

    [Fact]
    public async Task TwoWorkersShareOneGridWithoutRepeats()
    {
        var storage = new InMemoryStorage();
        var a = Study.Create("g", storage, new GridSampler(Grid, seed: 1));
        var b = Study.Load("g", storage, new GridSampler(Grid, seed: 1));
        var tasks = new[] { a, b }.Select(s => Task.Run(() => s.Optimize(t => { Thread.Sleep(5); return Objective(t); }))).ToArray();
        var counts = await Task.WhenAll(tasks);
        Assert.Equal(6, counts.Sum());
        Assert.Equal(6, a.Trials.Select(t => $"{t.Params["lr"]}/{t.Params["opt"]}").Distinct().Count());
    }

    [Fact]
    public void ASearchSpaceBecomesAGridAndAFloatWithoutStepIsRefused()
    {
        var space = SearchSpace.Parse("""{"n": {"type": "int", "low": 1, "high": 7, "step": 3}, "d": {"type": "float", "low": 0, "high": 0.5, "step": 0.25}, "c": {"type": "categorical", "choices": [true, false]}}""");
        Assert.Equal(3 * 3 * 2, GridSampler.FromSearchSpace(space).Size);
        var e = Assert.Throws<GptSharpException>(() => GridSampler.FromSearchSpace(SearchSpace.Parse("""{"lr": {"type": "float", "low": 0.1, "high": 1}}""")));
        Assert.Contains("\"lr\"", e.Message);
    }
}
