namespace GptSharp.Training.Advisors;

/// <summary>A suggested learning rate: how it was chosen (<c>valley</c>, <c>steepest</c>, <c>minimum/10</c>) and the curve's point it came from.</summary>
public sealed record LearningRateSuggestion(string Method, double LearningRate, int Step);
