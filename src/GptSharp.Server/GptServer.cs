using GptSharp.Native;
using GptSharp.Server.Errors;
using GptSharp.Server.Generation;
using GptSharp.Server.Hosting;
using GptSharp.Server.Metrics;
using GptSharp.Server.Options;
using GptSharp.Server.Routes;
using GptSharp.Server.Scheduling;
using GptSharp.Server.Security;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Prometheus;

namespace GptSharp.Server;

/// <summary>
/// The OpenAI-compatible server as one <see cref="WebApplication"/>: <c>gptsharp serve</c> runs it, tests host it in
/// process (pass <c>configure</c> to swap in a test server or a scheduler). The models load in the background once it
/// starts (<see cref="ModelRegistry.Ready"/>); /health says 503 until then.
/// </summary>
public static class GptServer
{
    public static WebApplication Build(ServerOptions options, Action<WebApplicationBuilder>? configure = null)
    {
        // The native fix-ups must precede TorchSharp's first call in whatever process hosts the server (idempotent).
        TorchRuntime.Initialize();
        options.Validate();
        foreach (var m in options.Models)
            if (!Directory.Exists(m.Path)) throw new GptSharpException($"{m.Path}: model directory not found");
        var filter = ServedFilter.From(options.Filter); // a bad rules file fails before any model loads

        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseUrls($"http://{(options.Host.Contains(':') ? $"[{options.Host}]" : options.Host)}:{options.Port}");
        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = options.MaxRequestBytes);
        builder.Logging.SetMinimumLevel(LogLevel.Warning); // `serve` prints its own start-up lines
        var services = builder.Services;
        services.Configure<HostOptions>(h => h.ShutdownTimeout = options.DrainTimeout);
        services.AddSingleton(options);
        services.AddSingleton(filter);
        services.AddSingleton(new ApiKeys(options.ApiKeys));
        // The one place the scheduling implementation is chosen: continuous batching, max_batch sequences per model.
        services.AddSingleton<SchedulerFactory>(_ => (id, generator) => new ContinuousBatchingScheduler(generator, id, options.MaxBatch, options.MaxQueue));
        services.AddSingleton<ModelRegistry>();
        services.AddHostedService(sp => sp.GetRequiredService<ModelRegistry>());
        services.AddSingleton<ServerMetrics>();
        if (options.RateLimitPerMinute > 0) services.AddRateLimiter(l => RateLimits.Configure(l, options));
        if (options.CorsOrigins.Count > 0)
            services.AddCors(c => c.AddDefaultPolicy(p =>
                (options.CorsOrigins.Contains("*") ? p.AllowAnyOrigin() : p.WithOrigins([.. options.CorsOrigins])).AllowAnyHeader().AllowAnyMethod()));
        configure?.Invoke(builder);

        var app = builder.Build();
        app.UseMiddleware<RequestCounting>();
        app.UseMiddleware<ApiErrorHandler>();
        // Responses the framework ends without a body (no such route, a wrong method) still get OpenAI's error shape.
        app.UseStatusCodePages(context => ApiErrorHandler.WriteAsync(context.HttpContext, Unrouted(context.HttpContext)));
        if (options.CorsOrigins.Count > 0) app.UseCors();
        app.UseMiddleware<ApiKeyAuthentication>();
        if (options.RateLimitPerMinute > 0) app.UseRateLimiter();

        app.MapPost("/v1/chat/completions", ChatCompletionsEndpoint.HandleAsync);
        app.MapPost("/v1/completions", CompletionsEndpoint.HandleAsync);
        app.MapGet("/v1/models", ModelsEndpoints.List);
        app.MapGet("/v1/models/{id}", ModelsEndpoints.Get);
        app.MapGet("/health", HealthEndpoint.Handle).WithMetadata(OpenRoute.Instance);
        app.MapPost("/tokenize", TokenizeEndpoints.TokenizeAsync);
        app.MapPost("/detokenize", TokenizeEndpoints.DetokenizeAsync);
        foreach (var page in ChatPageEndpoints.Map(app)) page.WithMetadata(OpenRoute.Instance);
        app.MapMetrics("/metrics", app.Services.GetRequiredService<ServerMetrics>().Registry);
        return app;
    }

    static ApiException Unrouted(HttpContext context)
    {
        int status = context.Response.StatusCode;
        string what = $"{context.Request.Method} {context.Request.Path}";
        return status switch
        {
            404 => new(404, $"Unknown route {what}; see /v1/models, /v1/chat/completions, /v1/completions", code: "unknown_route"),
            405 => new(405, $"{what}: method not allowed", code: "method_not_allowed"),
            _ => new(status, $"{what}: HTTP {status}"),
        };
    }
}
