namespace GptSharp.Server.Responses;

/// <summary>One entry of GET /v1/models, as OpenAI's <c>model</c> object.</summary>
public sealed record ModelCard(string Id, long Created)
{
    public string Object => "model";
    public string OwnedBy => "gptsharp";
}
