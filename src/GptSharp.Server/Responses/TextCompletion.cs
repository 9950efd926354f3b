using System.Text.Json.Serialization;

namespace GptSharp.Server.Responses;

/// <summary>
/// A text completion, as OpenAI's <c>text_completion</c> object; streamed, each event is one of these too (one choice
/// with its text, the last with its finish reason, then a usage event with no choices when asked for).
/// </summary>
public sealed record TextCompletion(string Id, long Created, string Model, IReadOnlyList<TextCompletion.Choice> Choices)
{
    public string Object => "text_completion";
    public string? SystemFingerprint => null;
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Usage? Usage { get; init; }

    public sealed record Choice(string Text, int Index, string? FinishReason)
    {
        public TextLogprobs? Logprobs { get; init; }
    }
}
