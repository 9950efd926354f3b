using GptSharp.Server.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace GptSharp.Server.Routes;

/// <summary>GET /health: 200 once every model is loaded, 503 while loading (or when loading failed). Open without a key.</summary>
public static class HealthEndpoint
{
    public sealed record Status(string State, IReadOnlyList<string> Models, string? Error = null);

    public static JsonHttpResult<Status> Handle(ModelRegistry models)
    {
        var status = models.IsReady ? new Status("ok", models.Models.Select(m => m.Id).ToArray())
            : models.Ready.IsFaulted ? new Status("error", [], models.Ready.Exception?.InnerException?.Message)
            : new Status("loading", []);
        return TypedResults.Json(status, Responses.WireJson.Options, statusCode: models.IsReady ? 200 : 503);
    }
}
