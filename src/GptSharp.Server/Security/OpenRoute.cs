namespace GptSharp.Server.Security;

/// <summary>
/// Endpoint metadata: the route needs no API key and is never rate limited (/health for load balancers, the chat page,
/// whose own API calls carry the key).
/// </summary>
public sealed class OpenRoute
{
    public static readonly OpenRoute Instance = new();

    OpenRoute() { }

    public static bool Is(Microsoft.AspNetCore.Http.HttpContext context) => context.GetEndpoint()?.Metadata.GetMetadata<OpenRoute>() is not null;
}
