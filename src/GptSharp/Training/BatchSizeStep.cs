namespace GptSharp.Training;

/// <summary>One entry of explicit <see cref="BatchSizeSchedule.Steps"/>: from <paramref name="Step"/> completed steps on, <paramref name="BatchSize"/> sequences.</summary>
public sealed record BatchSizeStep(int Step, int BatchSize);
