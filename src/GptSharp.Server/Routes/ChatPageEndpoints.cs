using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace GptSharp.Server.Routes;

/// <summary>
/// The web chat page (<c>wwwroot/</c>): plain files embedded in this assembly, so <c>gptsharp serve</c> finds them from any
/// directory and offline. The page calls the API from the browser; it holds no server-side state.
/// </summary>
public static class ChatPageEndpoints
{
    static readonly (string Route, string File, string ContentType)[] Files =
    [
        ("/", "index.html", "text/html; charset=utf-8"),
        ("/chat.js", "chat.js", "text/javascript; charset=utf-8"),
        ("/chat.css", "chat.css", "text/css; charset=utf-8"),
    ];

    /// <summary>Maps each file to its route; returns the builders so the caller can add metadata (the page is open without a key).</summary>
    public static IEnumerable<IEndpointConventionBuilder> Map(IEndpointRouteBuilder app)
    {
        var builders = new List<IEndpointConventionBuilder>();
        foreach (var (route, file, type) in Files)
        {
            byte[] bytes = Read(file);
            builders.Add(app.MapGet(route, (HttpContext http) =>
            {
                // Scripts only from this server, and calls only to it: the page needs nothing from elsewhere.
                http.Response.Headers.ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'";
                http.Response.Headers.XContentTypeOptions = "nosniff";
                http.Response.Headers.CacheControl = "no-cache";
                return TypedResults.Bytes(bytes, type);
            }));
        }
        return builders;
    }

    static byte[] Read(string file)
    {
        using var stream = typeof(ChatPageEndpoints).Assembly.GetManifestResourceStream($"wwwroot/{file}")
            ?? throw new InvalidOperationException($"wwwroot/{file} is not embedded in {typeof(ChatPageEndpoints).Assembly.GetName().Name}");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
