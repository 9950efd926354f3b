using GptSharp.Inference;

namespace GptSharp.Server.Generation;

/// <summary>The generator's finish reasons as OpenAI names them: a stop sequence is "stop" there, not the library's "stop_sequence".</summary>
public static class OpenAiFinishReason
{
    public static string Of(FinishReason reason) => reason switch
    {
        FinishReason.EndOfText or FinishReason.StopSequence => "stop",
        FinishReason.Length or FinishReason.ContextFull => "length",
        FinishReason.ContentFilter => "content_filter",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, "a cancelled sequence has no response"),
    };
}
