namespace GptSharp.Training.Advisors;

/// <summary>
/// A finished batch-size search: the probes in the order they ran, the largest batch that fitted, the budget it was held
/// to (null on CUDA, where only an out-of-memory error decides), what measured memory (null: nothing), the job's batch
/// and the <see cref="Recommendation"/> that keeps its effective batch.
/// </summary>
public sealed record BatchSizeResult(
    BatchSizeOptions Options, IReadOnlyList<BatchSizeProbe> Probes, int LargestFit, long? MemoryBudget, string? Meter,
    int BlockSize, int PerDeviceTrainBatchSize, int GradientAccumulationSteps, BatchSizeRecommendation Recommendation)
{
    /// <summary>The probes by batch size, as the table and the plot show them.</summary>
    public IEnumerable<BatchSizeProbe> ByBatchSize => Probes.OrderBy(p => p.BatchSize);
}
