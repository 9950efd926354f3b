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
    /// <summary>early_stopping_patience ended the run before max_steps.</summary>
    public bool StoppedEarly { get; init; }
    /// <summary>The checkpoint with the lowest val loss, if any was saved after an evaluation.</summary>
    public string? BestCheckpoint { get; init; }
}
