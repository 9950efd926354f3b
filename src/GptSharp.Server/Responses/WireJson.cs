using System.Text.Json;

namespace GptSharp.Server.Responses;

/// <summary>How the wire records serialise: OpenAI's snake_case keys, nulls written (OpenAI sends <c>"param": null</c>).</summary>
public static class WireJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };
}
