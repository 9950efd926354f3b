namespace GptSharp.Tests.Server.Security;

/// <summary>Bearer keys (401 in OpenAI's shape, /health open) and the per-key rate limit (429 with Retry-After).</summary>
[Collection(nameof(ServerCollection))]
public class AuthAndRateLimitTests(ServerModels models)
{
    [Fact]
    public async Task KeysAreRequiredExceptForHealthAndEachKeyHasItsOwnLimit()
    {
        await using var host = await TestHost.StartAsync(models.Options() with { ApiKeys = ["key-one", "key-two"], RateLimitPerMinute = 2 });

        await (await host.Client().GetAsync("/v1/models")).ErrorAsync(401, "invalid_api_key");
        await (await host.Client("key-three").GetAsync("/v1/models")).ErrorAsync(401, "invalid_api_key");
        await (await host.Client("key-one-").GetAsync("/v1/models")).ErrorAsync(401, "invalid_api_key");
        Assert.Equal(200, (int)(await host.Client().GetAsync("/health")).StatusCode);

        var one = host.Client("key-one");
        Assert.Equal(200, (int)(await one.GetAsync("/v1/models")).StatusCode);
        Assert.Equal(200, (int)(await one.GetAsync("/v1/models/la")).StatusCode);
        var limited = await one.GetAsync("/v1/models");
        await limited.ErrorAsync(429, "rate_limit_exceeded");
        Assert.True(limited.Headers.RetryAfter?.Delta?.TotalSeconds >= 1);
        // Another key is counted apart; health is never limited.
        Assert.Equal(200, (int)(await host.Client("key-two").GetAsync("/v1/models")).StatusCode);
        for (int i = 0; i < 3; i++) Assert.Equal(200, (int)(await host.Client().GetAsync("/health")).StatusCode);
    }

    [Fact]
    public void KeysMatchExactly()
    {
        var keys = new GptSharp.Server.Security.ApiKeys(["abc", "def"]);
        Assert.Equal(1, keys.Match("def"));
        Assert.Null(keys.Match("de"));
        Assert.Null(keys.Match("ABC"));
        Assert.False(new GptSharp.Server.Security.ApiKeys([]).Required);
    }
}
