namespace GptSharp.Server.Responses;

/// <summary>A non-streamed chat completion, as OpenAI's <c>chat.completion</c> object.</summary>
public sealed record ChatCompletion(string Id, long Created, string Model, IReadOnlyList<ChatCompletion.Choice> Choices, Usage Usage)
{
    public string Object => "chat.completion";
    public string? SystemFingerprint => null;

    public sealed record Choice(int Index, Message Message, string FinishReason)
    {
        public ChatLogprobs? Logprobs { get; init; }
    }

    public sealed record Message(string Content)
    {
        public string Role => "assistant";
        public string? Refusal => null;
    }
}
