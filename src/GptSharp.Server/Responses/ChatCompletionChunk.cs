using System.Text.Json.Serialization;

namespace GptSharp.Server.Responses;

/// <summary>
/// One streamed chat event, as OpenAI's <c>chat.completion.chunk</c>: the first delta of a choice carries the role, then
/// content deltas, then an empty delta with the finish reason; the usage chunk has no choices.
/// </summary>
public sealed record ChatCompletionChunk(string Id, long Created, string Model, IReadOnlyList<ChatCompletionChunk.Choice> Choices)
{
    public string Object => "chat.completion.chunk";
    public string? SystemFingerprint => null;
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Usage? Usage { get; init; }

    public sealed record Choice(int Index, Delta Delta, string? FinishReason)
    {
        public ChatLogprobs? Logprobs { get; init; }
    }

    public sealed record Delta(
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Role,
        [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Content);
}
