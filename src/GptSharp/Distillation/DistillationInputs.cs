namespace GptSharp.Distillation;

/// <summary>What a distillation run reads: the teacher's model directory and the data to distil on.</summary>
public sealed record DistillationInputs
{
    /// <summary>The teacher: a model directory (a chat model to distil on dialogues).</summary>
    public required string TeacherDir { get; init; }
    /// <summary>A data directory made by <c>gptsharp data prepare</c> (text: every token counts) or a dialogue file (the assistant's replies count).</summary>
    public required string Data { get; init; }
    /// <summary>Held-out dialogues for evaluation; without them val_fraction of the dialogues are held out. Text uses its val split.</summary>
    public string? ValData { get; init; }
}
