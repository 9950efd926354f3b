namespace GptSharp.Inference;

/// <summary>The names a wire protocol gives a <see cref="FinishReason"/> (OpenAI's finish_reason, plus two of ours).</summary>
public static class FinishReasonNames
{
    /// <summary>"stop" (an end token), "length" (max_new_tokens or a full context), "stop_sequence", "content_filter" or "cancelled".</summary>
    public static string Name(this FinishReason reason) => reason switch
    {
        FinishReason.EndOfText => "stop",
        FinishReason.Length or FinishReason.ContextFull => "length",
        FinishReason.StopSequence => "stop_sequence",
        FinishReason.ContentFilter => "content_filter",
        FinishReason.Cancelled => "cancelled",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };
}
