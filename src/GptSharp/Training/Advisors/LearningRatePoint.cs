namespace GptSharp.Training.Advisors;

/// <summary>One step of the range test: its learning rate, the step's training loss and the smoothed loss.</summary>
public sealed record LearningRatePoint(int Step, double LearningRate, double Loss, double SmoothedLoss);
