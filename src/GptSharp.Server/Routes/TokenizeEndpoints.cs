using System.Text.Json;
using GptSharp.Server.Errors;
using GptSharp.Server.Hosting;
using GptSharp.Server.Options;
using GptSharp.Server.Requests;
using GptSharp.Server.Responses;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace GptSharp.Server.Routes;

/// <summary>
/// POST /tokenize and POST /detokenize, in llama.cpp's server shapes: <c>{"content"}</c> → <c>{"tokens": [ids]}</c>
/// (with <c>with_pieces</c>, <c>[{"id", "piece"}]</c>) and back. An optional <c>model</c> picks the tokenizer (default: the first model's).
/// </summary>
public static class TokenizeEndpoints
{
    public static async Task<Results<JsonHttpResult<TokenIds>, JsonHttpResult<TokenPieces>>> TokenizeAsync(HttpContext http, ModelRegistry models, ServerOptions options)
    {
        var f = await RequestBody.ReadJsonAsync(http.Request, options.MaxRequestBytes, http.RequestAborted);
        var model = models.FindOrFirst(f.String("model"));
        string content = f.String("content") ?? throw ApiException.Invalid("content", "'content' is required", "missing_required_parameter");
        int[] ids = model.Tokenizer.Encode(content);
        if (f.Bool("with_pieces") == true)
            return TypedResults.Json(new TokenPieces(ids.Select(id => new TokenPiece(id, model.Tokenizer.Decode([id]))).ToArray()), WireJson.Options);
        return TypedResults.Json(new TokenIds(ids), WireJson.Options);
    }

    public static async Task<JsonHttpResult<DetokenizeResponse>> DetokenizeAsync(HttpContext http, ModelRegistry models, ServerOptions options)
    {
        var f = await RequestBody.ReadJsonAsync(http.Request, options.MaxRequestBytes, http.RequestAborted);
        var model = models.FindOrFirst(f.String("model"));
        if (f.Get("tokens") is not { } tokens) throw ApiException.Invalid("tokens", "'tokens' is required", "missing_required_parameter");
        if (tokens.ValueKind != JsonValueKind.Array) throw JsonFields.Wrong("tokens", "an array of token ids", tokens);
        int vocab = model.Tokenizer.VocabSize;
        int[] ids = tokens.EnumerateArray().Select((t, i) => t.ValueKind == JsonValueKind.Number && t.TryGetInt32(out int id) && id >= 0 && id < vocab ? id
            : throw ApiException.Invalid("tokens", $"'tokens[{i}]' is not a token id of this model (0..{vocab - 1})")).ToArray();
        return TypedResults.Json(new DetokenizeResponse(model.Tokenizer.Decode(ids)), WireJson.Options);
    }
}
