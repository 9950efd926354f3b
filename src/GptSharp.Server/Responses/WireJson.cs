using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace GptSharp.Server.Responses;

/// <summary>How the wire records serialise: OpenAI's snake_case keys, nulls written (OpenAI sends <c>"param": null</c>).</summary>
public static class WireJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    /// <summary>
    /// As <see cref="Options"/>, with <c>"usage"</c> written even when null: OpenAI's chunks when a stream asked for
    /// usage (every chunk but the last says <c>"usage": null</c>). A contract of its own rather than a JSON tree per
    /// chunk edited after the fact, which cost every streamed token an extra parse and write.
    /// </summary>
    public static readonly JsonSerializerOptions WithNullUsage = new(Options)
    {
        TypeInfoResolver = new DefaultJsonTypeInfoResolver
        {
            Modifiers =
            {
                info =>
                {
                    foreach (var property in info.Properties)
                        if (property.Name == "usage") property.ShouldSerialize = static (_, _) => true;
                },
            },
        },
    };
}
