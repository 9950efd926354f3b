using System.Globalization;
using System.Threading.RateLimiting;
using GptSharp.Server.Errors;
using GptSharp.Server.Options;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.RateLimiting;

namespace GptSharp.Server.Security;

/// <summary>
/// Per-key request limits with ASP.NET Core's rate limiter: a fixed one-minute window per API key (per client
/// address when the server has no keys); the <see cref="OpenRoute"/>s are never limited. Over the limit: 429 in OpenAI's shape with Retry-After.
/// </summary>
public static class RateLimits
{
    public static void Configure(RateLimiterOptions limiter, ServerOptions options)
    {
        limiter.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
        {
            if (OpenRoute.Is(context)) return RateLimitPartition.GetNoLimiter("open");
            string partition = context.Items[ApiKeyAuthentication.KeyItem] is int key ? $"key:{key}"
                : $"ip:{context.Connection.RemoteIpAddress}";
            return RateLimitPartition.GetFixedWindowLimiter(partition, _ => new FixedWindowRateLimiterOptions
            {
                PermitLimit = options.RateLimitPerMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0,
            });
        });
        limiter.OnRejected = async (rejected, ct) =>
        {
            int retry = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? Math.Max(1, (int)Math.Ceiling(after.TotalSeconds)) : 60;
            await ApiErrorHandler.WriteAsync(rejected.HttpContext,
                new ApiException(429, $"Rate limit reached: {options.RateLimitPerMinute} requests per minute; retry in {retry.ToString(CultureInfo.InvariantCulture)} s",
                    code: "rate_limit_exceeded", type: "requests") { RetryAfterSeconds = retry });
        };
    }
}
