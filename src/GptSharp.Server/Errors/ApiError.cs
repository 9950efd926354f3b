namespace GptSharp.Server.Errors;

/// <summary>OpenAI's error body: <c>{"error": {"message", "type", "param", "code"}}</c>, every key always present.</summary>
public sealed record ApiError(ApiError.Body Error)
{
    public sealed record Body(string Message, string Type, string? Param, string? Code);
}
