using GptSharp.Server.Errors;
using Microsoft.AspNetCore.Http;

namespace GptSharp.Server.Security;

/// <summary>
/// Requires <c>Authorization: Bearer KEY</c> on every route but the <see cref="OpenRoute"/>s (/health, the chat page) when
/// the server has keys; a missing or wrong key is a 401 in OpenAI's shape. The matched key's index is left in
/// <see cref="HttpContext.Items"/> for the per-key rate limiter.
/// </summary>
public sealed class ApiKeyAuthentication(RequestDelegate next, ApiKeys keys)
{
    public const string KeyItem = "gptsharp.api_key";

    public async Task InvokeAsync(HttpContext context)
    {
        if (!keys.Required || OpenRoute.Is(context))
        {
            await next(context);
            return;
        }
        string header = context.Request.Headers.Authorization.ToString();
        const string bearer = "Bearer ";
        if (!header.StartsWith(bearer, StringComparison.OrdinalIgnoreCase))
            throw new ApiException(401, "You didn't provide an API key: send it as 'Authorization: Bearer KEY'", code: "invalid_api_key");
        if (keys.Match(header[bearer.Length..].Trim()) is not { } index)
            throw new ApiException(401, "Incorrect API key provided", code: "invalid_api_key");
        context.Items[KeyItem] = index;
        await next(context);
    }
}
