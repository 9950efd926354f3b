using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace GptSharp.Tests.Server;

/// <summary>Raw HTTP helpers: post JSON text as it is (malformed too) and read the reply as a JSON tree.</summary>
static class Json
{
    public static Task<HttpResponseMessage> PostAsync(this HttpClient client, string path, string json) =>
        client.PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    public static async Task<JsonNode> BodyAsync(this HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!;

    public static async Task<JsonNode> GetJsonAsync(this HttpClient client, string path) =>
        (await client.GetFromJsonAsync<JsonNode>(path))!;

    /// <summary>Asserts OpenAI's error shape, the status and the code; returns the error object.</summary>
    public static async Task<JsonNode> ErrorAsync(this HttpResponseMessage response, int status, string? code = null, string? param = null)
    {
        string text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {text}");
        var error = JsonNode.Parse(text)!["error"]!.AsObject();
        Assert.Equal(["message", "type", "param", "code"], error.Select(p => p.Key));
        Assert.False(string.IsNullOrEmpty((string?)error["message"]));
        if (code is not null) Assert.Equal(code, (string?)error["code"]);
        if (param is not null) Assert.Equal(param, (string?)error["param"]);
        return error;
    }
}
