using System.Text.Json.Nodes;

namespace GptSharp.Tests.Server;

/// <summary>Server-Sent Events as the server sends them: <c>data: …</c> blocks separated by blank lines.</summary>
static class Sse
{
    /// <summary>Every event's data, in order; checks each block is exactly one data line.</summary>
    public static List<string> Data(string body)
    {
        var events = new List<string>();
        foreach (var block in body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries))
        {
            Assert.StartsWith("data: ", block);
            Assert.DoesNotContain('\n', block);
            events.Add(block["data: ".Length..]);
        }
        return events;
    }

    /// <summary>The JSON events before the final [DONE] (which must be there).</summary>
    public static List<JsonNode> Json(string body)
    {
        var data = Data(body);
        Assert.Equal("[DONE]", data[^1]);
        return data[..^1].Select(d => JsonNode.Parse(d)!).ToList();
    }
}
