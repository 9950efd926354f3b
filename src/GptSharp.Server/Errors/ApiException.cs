namespace GptSharp.Server.Errors;

/// <summary>
/// A request the server refuses, with everything OpenAI's error body carries
/// (<c>{"error": {"message", "type", "param", "code"}}</c>); <see cref="ApiErrorHandler"/> writes it.
/// </summary>
public sealed class ApiException(int status, string message, string? param = null, string? code = null, string? type = null) : Exception(message)
{
    public int Status { get; } = status;
    public string? Param { get; } = param;
    public string? Code { get; } = code;
    public string Type { get; } = type ?? (status >= 500 ? "server_error" : "invalid_request_error");
    /// <summary>Seconds a client should wait before retrying (429, 503), sent as Retry-After.</summary>
    public int? RetryAfterSeconds { get; init; }

    public ApiError ToError() => new(new ApiError.Body(Message, Type, Param, Code));

    /// <summary>A 400 naming the request field that is wrong.</summary>
    public static ApiException Invalid(string param, string message, string? code = "invalid_value") => new(400, message, param, code);
}
