using GptSharp.Server.Responses;
using GptSharp.Server.Scheduling;
using Microsoft.AspNetCore.Http;

namespace GptSharp.Server.Errors;

/// <summary>
/// Turns what a route throws into OpenAI's error shape: an <see cref="ApiException"/> as it says, a library
/// <see cref="GptSharpException"/> (an option or prompt the library refused) as a 400 with its message, anything else
/// as a 500 that does not leak internals; a full model queue is a 429 with Retry-After. A response already streaming cannot change status: it is left to the route.
/// </summary>
public sealed class ApiErrorHandler(RequestDelegate next, ILogger<ApiErrorHandler> log)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
        }
        catch (Exception e) when (!context.Response.HasStarted && !(e is OperationCanceledException && context.RequestAborted.IsCancellationRequested))
        {
            var error = e switch
            {
                ApiException api => api,
                QueueFullException full => new ApiException(429, full.Message, code: "queue_full", type: "server_overloaded") { RetryAfterSeconds = 1 },
                GptSharpException lib => new ApiException(400, lib.Message),
                BadHttpRequestException bad => new ApiException(bad.StatusCode, bad.Message),
                _ => null,
            };
            if (error is null) log.LogError(e, "request failed");
            await WriteAsync(context, error ?? new ApiException(500, "internal server error"));
        }
    }

    public static async Task WriteAsync(HttpContext context, ApiException error)
    {
        context.Response.Clear();
        context.Response.StatusCode = error.Status;
        if (error.RetryAfterSeconds is { } s) context.Response.Headers.RetryAfter = s.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await context.Response.WriteAsJsonAsync(error.ToError(), WireJson.Options, context.RequestAborted);
    }
}
