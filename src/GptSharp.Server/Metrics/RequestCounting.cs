using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace GptSharp.Server.Metrics;

/// <summary>Counts every request by its route pattern (not its raw path, which would explode the label set) and final status.</summary>
public sealed class RequestCounting(RequestDelegate next, ServerMetrics metrics)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try { await next(context); }
        finally
        {
            string route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? "unmatched";
            metrics.Requests.WithLabels(route, context.Response.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
        }
    }
}
