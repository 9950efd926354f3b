namespace GptSharp.Training;

public enum TrainingEvent
{
    /// <summary>An optimizer step finished (every step; <see cref="TrainingProgress.Logged"/> marks logging steps).</summary>
    Step,
    /// <summary>A validation loss was measured.</summary>
    Evaluation,
    /// <summary>A checkpoint or the final model was written (<see cref="TrainingProgress.Path"/>).</summary>
    Checkpoint,
    /// <summary>Something worth telling the user (<see cref="TrainingProgress.Message"/>), e.g. that the run resumed.</summary>
    Message,
}

/// <summary>What a <see cref="Trainer"/> reports as it goes.</summary>
public sealed record TrainingProgress
{
    public required TrainingEvent Event { get; init; }
    public int Step { get; init; }
    public int MaxSteps { get; init; }
    /// <summary>The last step's training loss (mean over its micro-batches).</summary>
    public double Loss { get; init; }
    public double LearningRate { get; init; }
    /// <summary>Training tokens per second since the last logging step (evaluation and saving excluded).</summary>
    public double TokensPerSecond { get; init; }
    /// <summary>Wall time of the whole run, including the parts before a resume.</summary>
    public TimeSpan Elapsed { get; init; }
    public TimeSpan? Eta { get; init; }
    /// <summary>Under a batch_size_schedule, the step's effective batch in sequences; null when the batch never changes.</summary>
    public int? BatchSize { get; init; }
    public double? ValLoss { get; init; }
    /// <summary>True on steps written to metrics.jsonl (every logging_steps).</summary>
    public bool Logged { get; init; }
    public string? Path { get; init; }
    public string? Message { get; init; }
    /// <summary>Live TorchSharp tensors on the training thread after the step: flat across steps unless something leaks.</summary>
    public long LiveTensors { get; init; }
}
