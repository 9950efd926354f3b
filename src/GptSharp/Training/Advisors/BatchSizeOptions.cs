namespace GptSharp.Training.Advisors;

/// <summary>
/// The batch-size search: batches 1 … <see cref="MaxBatch"/>, each probed with <see cref="Steps"/> optimizer steps;
/// a batch fits when it raises no out-of-memory error and its peak memory stays within <see cref="MemoryBudget"/> bytes
/// (null: what the machine has free, <see cref="MemoryMeters.Available"/>).
/// </summary>
public sealed record BatchSizeOptions
{
    public int MaxBatch { get; init; } = 1024;
    public int Steps { get; init; } = 3;
    public long? MemoryBudget { get; init; }

    /// <summary>Throws, naming the option (as the CLI spells it), unless the search makes sense.</summary>
    public BatchSizeOptions Validate()
    {
        if (MaxBatch < 1) throw new GptSharpException($"--max-batch must be at least 1 (got {MaxBatch})");
        if (Steps < 1) throw new GptSharpException($"--steps must be at least 1 (got {Steps})");
        if (MemoryBudget is <= 0) throw new GptSharpException($"--memory-budget must be positive (got {MemoryBudget} bytes)");
        return this;
    }
}
