namespace GptSharp.Server.Responses;

/// <summary>OpenAI's usage object: exact token counts.</summary>
public sealed record Usage(int PromptTokens, int CompletionTokens)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
}
