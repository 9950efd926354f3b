namespace GptSharp.Training;

/// <summary>How a run ended. <see cref="FinalDir"/> is null when it was cancelled (its last checkpoint holds the state).</summary>
public sealed record TrainingResult(
    int Step,
    int MaxSteps,
    bool Cancelled,
    double? LastLoss,
    double? LastValLoss,
    double? BestValLoss,
    string OutputDir,
    string? LastCheckpoint,
    string? FinalDir);
