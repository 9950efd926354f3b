namespace GptSharp.Server.Generation;

/// <summary>Text of one choice, ready to send; the last piece of a choice has its OpenAI finish_reason.</summary>
public sealed record ChoicePiece(int Index, string Text, string? FinishReason);
