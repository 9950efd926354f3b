namespace GptSharp.Tests.Server.Security;

/// <summary>--cors: browsers on the allowed origin may call the API (preflight answered before the key check).</summary>
[Collection(nameof(ServerCollection))]
public class CorsTests(ServerModels models)
{
    [Fact]
    public async Task TheAllowedOriginGetsCorsHeadersAndOthersDoNot()
    {
        await using var host = await TestHost.StartAsync(models.Options() with { CorsOrigins = ["https://chat.example.com"], ApiKeys = ["k"] });
        HttpRequestMessage Preflight(string origin)
        {
            var m = new HttpRequestMessage(HttpMethod.Options, "/v1/chat/completions");
            m.Headers.Add("Origin", origin);
            m.Headers.Add("Access-Control-Request-Method", "POST");
            m.Headers.Add("Access-Control-Request-Headers", "authorization,content-type");
            return m;
        }
        var allowed = await host.Client().SendAsync(Preflight("https://chat.example.com"));
        Assert.Equal(204, (int)allowed.StatusCode);
        Assert.Equal("https://chat.example.com", allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
        var other = await host.Client().SendAsync(Preflight("https://evil.example.com"));
        Assert.False(other.Headers.Contains("Access-Control-Allow-Origin"));
    }
}
