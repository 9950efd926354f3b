namespace GptSharp.Training;

/// <summary>How a run ended. <see cref="FinalDir"/> is null when it was cancelled (its last checkpoint holds the state).
/// With load_best_model_at_end, final/ holds the weights of <see cref="BestCheckpoint"/> or of the last step, whichever had the lower val loss.</summary>
public sealed record TrainingResult(
    int Step,
    int MaxSteps,
    bool Cancelled,
    double? LastLoss,
    double? LastValLoss,
    double? BestValLoss,
    string OutputDir,
    string? LastCheckpoint,
    string? FinalDir)
{
    /// <summary>early_stopping_patience or a callback (<see cref="TrainerControl.Stop"/>) ended the run before max_steps.</summary>
    public bool StoppedEarly { get; init; }
    /// <summary>Why the run stopped before max_steps, in the words of the callback that stopped it.</summary>
    public string? StopReason { get; init; }
    /// <summary>The checkpoint with the lowest val loss, if any was saved after an evaluation.</summary>
    public string? BestCheckpoint { get; init; }
}
