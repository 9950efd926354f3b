using System.Text.Json;
using System.Text.Json.Nodes;
using GptSharp.Inference;
using GptSharp.IO;

namespace GptSharp.Inference;

/// <summary>Hugging Face <c>generation_config.json</c>: a model directory's default decoding settings.</summary>
public static class GenerationConfigFile
{
    public const string FileName = "generation_config.json";

    /// <summary>The directory's defaults over <paramref name="fallback"/>; the fallback alone when the file is absent.</summary>
    public static GenerationOptions Read(string dir, GenerationOptions? fallback = null)
    {
        var o = fallback ?? new GenerationOptions();
        string path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) return o;
        JsonObject json;
        try { json = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new GptSharpException($"{path}: expected a JSON object"); }
        catch (JsonException e) { throw new GptSharpException($"{path}: not valid JSON ({e.Message})"); }
        try
        {
            return (o with
            {
                MaxNewTokens = json["max_new_tokens"]?.GetValue<int>() ?? o.MaxNewTokens,
                // Hugging Face's do_sample defaults to false; a file asking for beams without saying so means no sampling.
                DoSample = json["do_sample"]?.GetValue<bool>() ?? (json["num_beams"]?.GetValue<int>() > 1 ? false : o.DoSample),
                Temperature = json["temperature"]?.GetValue<double>() ?? o.Temperature,
                TopK = json["top_k"]?.GetValue<int>() ?? o.TopK,
                TopP = json["top_p"]?.GetValue<double>() ?? o.TopP,
                MinNewTokens = json["min_new_tokens"]?.GetValue<int>() ?? o.MinNewTokens,
                RepetitionPenalty = json["repetition_penalty"]?.GetValue<double>() ?? o.RepetitionPenalty,
                NoRepeatNgramSize = json["no_repeat_ngram_size"]?.GetValue<int>() ?? o.NoRepeatNgramSize,
                NumBeams = json["num_beams"]?.GetValue<int>() ?? o.NumBeams,
                LengthPenalty = json["length_penalty"]?.GetValue<double>() ?? o.LengthPenalty,
                EarlyStopping = json["early_stopping"]?.GetValue<bool>() ?? o.EarlyStopping,
            }).Validate();
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new GptSharpException($"{path}: a decoding setting has the wrong type ({e.Message})");
        }
        catch (GptSharpException e) { throw new GptSharpException($"{path}: {e.Message}"); }
    }

    /// <summary>
    /// The token ids the file's <c>eos_token_id</c> names as ends of generation (a number or a list of numbers; Hugging
    /// Face chat models list several); none when the file or the key is absent.
    /// </summary>
    public static int[] ReadEndTokenIds(string dir)
    {
        string path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) return [];
        JsonNode? eos;
        try { eos = (JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new GptSharpException($"{path}: expected a JSON object"))["eos_token_id"]; }
        catch (JsonException e) { throw new GptSharpException($"{path}: not valid JSON ({e.Message})"); }
        static int? Id(JsonNode? n) => n is JsonValue v && v.TryGetValue(out int id) && id >= 0 ? id : null;
        return eos switch
        {
            null => [],
            JsonArray list when list.All(n => Id(n) is not null) => [.. list.Select(n => Id(n)!.Value)],
            _ when Id(eos) is int id => [id],
            _ => throw new GptSharpException($"{path}: eos_token_id must be a token id or a list of token ids (got {eos.ToJsonString()})"),
        };
    }

    /// <param name="otherEndIds">More ids that end generation (a chat model's &lt;|end|&gt;): eos_token_id becomes a list.</param>
    public static void Write(string dir, GenerationOptions o, int eosTokenId, IReadOnlyList<int>? otherEndIds = null)
    {
        int[] ends = [eosTokenId, .. (otherEndIds ?? []).Where(id => id != eosTokenId).Distinct()];
        var json = new JsonObject
        {
            ["bos_token_id"] = eosTokenId,
            ["eos_token_id"] = ends.Length == 1 ? eosTokenId : new JsonArray([.. ends.Select(id => (JsonNode)id)]),
            ["max_new_tokens"] = o.MaxNewTokens,
            ["do_sample"] = o.DoSample,
            ["temperature"] = o.Temperature,
            ["top_k"] = o.TopK,
            ["top_p"] = o.TopP,
            ["min_new_tokens"] = o.MinNewTokens,
            ["repetition_penalty"] = o.RepetitionPenalty,
            ["no_repeat_ngram_size"] = o.NoRepeatNgramSize,
            ["num_beams"] = o.NumBeams,
            ["length_penalty"] = o.LengthPenalty,
            ["early_stopping"] = o.EarlyStopping,
        };
        AtomicFile.WriteAllText(Path.Combine(dir, FileName), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
