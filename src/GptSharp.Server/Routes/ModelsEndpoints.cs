using GptSharp.Server.Hosting;
using GptSharp.Server.Responses;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace GptSharp.Server.Routes;

/// <summary>GET /v1/models and GET /v1/models/{id}, in OpenAI's shapes.</summary>
public static class ModelsEndpoints
{
    public static JsonHttpResult<ModelList> List(ModelRegistry models)
    {
        models.RequireReady();
        return TypedResults.Json(new ModelList(models.Models.Select(Card).ToArray()), WireJson.Options);
    }

    public static JsonHttpResult<ModelCard> Get(string id, ModelRegistry models) => TypedResults.Json(Card(models.Find(id)), WireJson.Options);

    static ModelCard Card(LoadedModel m) => new(m.Id, m.Created);
}
