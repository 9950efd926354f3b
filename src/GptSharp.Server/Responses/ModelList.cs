namespace GptSharp.Server.Responses;

/// <summary>GET /v1/models: OpenAI's list shape.</summary>
public sealed record ModelList(IReadOnlyList<ModelCard> Data)
{
    public string Object => "list";
}
