using GptSharp.Inference;

namespace GptSharp.Server.Generation;

/// <summary>
/// Text of one choice, ready to send; the last piece of a choice has its OpenAI finish_reason. <see cref="Logprobs"/>
/// are those of the tokens whose text this piece completes (when asked for).
/// </summary>
public sealed record ChoicePiece(int Index, string Text, string? FinishReason)
{
    public IReadOnlyList<TokenLogprob> Logprobs { get; init; } = [];
}
