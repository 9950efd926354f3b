using System.Text.Json.Nodes;

namespace GptSharp.Tuning.Samplers;

/// <summary>
/// Every combination of the given values, each run exactly once across all workers (Optuna's <c>GridSampler</c>, made
/// exact): the first worker enqueues the whole grid, in an order shuffled by the seed, as waiting trials in one storage
/// transaction; workers then take waiting trials, which the storage hands out once each. The study stops when the grid is
/// used up. A trial that fails and is re-queued keeps its grid point.
/// </summary>
public sealed class GridSampler : ISampler
{
    readonly IReadOnlyList<KeyValuePair<string, IReadOnlyList<object?>>> _grid;
    readonly int _seed;

    public GridSampler(IReadOnlyDictionary<string, IReadOnlyList<object?>> grid, int? seed = null)
    {
        if (grid.Count == 0) throw new GptSharpException("a grid needs at least one parameter");
        foreach (var (name, values) in grid)
            if (values.Count == 0) throw new GptSharpException($"grid parameter \"{name}\" has no values");
        _grid = [.. grid];
        _seed = seed ?? 0;
    }

    /// <summary>
    /// The grid of a search space: every choice of a categorical, every step of an int, every step of a float with a
    /// step. A float without a step has no grid: a clear error naming it.
    /// </summary>
    public static GridSampler FromSearchSpace(IReadOnlyDictionary<string, Distribution> space, int? seed = null)
    {
        var grid = new OrderedDictionary<string, IReadOnlyList<object?>>();
        foreach (var (name, d) in space)
        {
            grid[name] = d switch
            {
                CategoricalDistribution c => c.Choices,
                IntDistribution i when (i.High - i.Low) / i.Step < 100_000 => [.. Enumerable.Range(0, (int)((i.High - i.Low) / i.Step) + 1).Select(k => (object?)(i.Low + k * i.Step))],
                FloatDistribution { Step: { } s } f when (f.High - f.Low) / s < 100_000 => [.. Enumerable.Range(0, (int)Math.Round((f.High - f.Low) / s) + 1).Select(k => (object?)(f.Low + k * s))],
                _ => throw new GptSharpException($"grid sampler: parameter \"{name}\" ({d.ToJsonString()}) has no finite grid; give it a \"step\" or make it categorical"),
            };
        }
        return new GridSampler(grid, seed);
    }

    /// <summary>How many points the grid has.</summary>
    public long Size => _grid.Aggregate(1L, (n, p) => n * p.Value.Count);

    public bool OnlyEnqueuedTrials => true;

    public void BeforeStudyTrial(Study study)
    {
        if (Size > 1_000_000) throw new GptSharpException($"the grid has {Size:N0} points; at most 1,000,000 are supported");
        var points = new List<IReadOnlyDictionary<string, string>>();
        for (long index = 0; index < Size; index++)
        {
            var fixedParams = new JsonObject();
            long rest = index;
            foreach (var (name, values) in _grid)
            {
                fixedParams[name] = CategoricalDistribution.ToNode(Normal(values[(int)(rest % values.Count)]));
                rest /= values.Count;
            }
            points.Add(new Dictionary<string, string> { [FrozenTrial.FixedParamsKey] = fixedParams.ToJsonString() });
        }
        var rng = new Random(_seed);
        for (int i = points.Count - 1; i > 0; i--)
        {
            int j = rng.Next(i + 1);
            (points[i], points[j]) = (points[j], points[i]);
        }
        study.Storage.EnqueueTrialsOnce(study.Id, "grid:" + Key(), points);
    }

    public double SampleIndependent(Study study, FrozenTrial trial, string name, Distribution distribution) =>
        throw new GptSharpException(_grid.Any(p => p.Key == name)
            ? $"grid sampler: trial {trial.Number} was not enqueued with a grid point (was it enqueued by hand without \"{name}\"?)"
            : $"grid sampler: parameter \"{name}\" is not in the grid ({string.Join(", ", _grid.Select(p => p.Key))})");

    /// <summary>The grid as text: the same grid enqueues once per study, a changed grid enqueues its own points.</summary>
    string Key() => string.Join(";", _grid.Select(p => p.Key + "=" + string.Join(",", p.Value.Select(v => CategoricalDistribution.ToNode(Normal(v))?.ToJsonString() ?? "null"))));

    static object? Normal(object? v) => v switch { int i => (long)i, float f => (double)f, _ => v };
}
