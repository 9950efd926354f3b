using System.Text.Json;
using GptSharp.Server.Errors;
using GptSharp.Server.Options;
using GptSharp.Tokenization;

namespace GptSharp.Server.Requests;

/// <summary>
/// POST /v1/completions (legacy text completion), checked. The prompt is a string, an array of one string, or an
/// array of token ids; echo, suffix and best_of beyond n are refused until supported.
/// </summary>
public sealed record CompletionRequest(SamplingRequest Sampling, string? PromptText, IReadOnlyList<int>? PromptIds)
{
    public static CompletionRequest Read(JsonFields f, ServerOptions limits)
    {
        var sampling = SamplingRequest.Read(f, limits, chat: false);
        if (f.Bool("echo") == true) throw ApiException.Invalid("echo", "echo is not supported yet", "unsupported_parameter");
        if (f.String("suffix") is { Length: > 0 }) throw ApiException.Invalid("suffix", "suffix (insertion) is not supported", "unsupported_parameter");
        if (f.Integer("best_of", 1, limits.MaxChoices) is { } bestOf && bestOf != sampling.N)
            throw ApiException.Invalid("best_of", "best_of other than n is not supported yet", "unsupported_parameter");
        switch (f.Get("prompt"))
        {
            case null: return new(sampling, "", null); // OpenAI's default prompt is <|endoftext|>: a new document
            case { ValueKind: JsonValueKind.String } s: return new(sampling, Limit(s.GetString()!, limits), null);
            case { ValueKind: JsonValueKind.Array } a:
                var items = a.EnumerateArray().ToArray();
                if (items.Length == 1 && items[0].ValueKind == JsonValueKind.String) return new(sampling, Limit(items[0].GetString()!, limits), null);
                if (items.All(i => i.ValueKind == JsonValueKind.Number))
                {
                    if (items.Length > limits.MaxMessageChars) throw ApiException.Invalid("prompt", $"'prompt' holds more than {limits.MaxMessageChars} tokens");
                    return new(sampling, null, items.Select((i, k) => i.TryGetInt32(out int id) && id >= 0 ? id
                        : throw ApiException.Invalid("prompt", $"'prompt[{k}]' is not a token id")).ToArray());
                }
                throw ApiException.Invalid("prompt", "'prompt' must be a string, an array of one string or an array of token ids (batches of prompts are not supported)");
            case var v: throw JsonFields.Wrong("prompt", "a string or an array", v.Value);
        }
    }

    static string Limit(string prompt, ServerOptions limits) => prompt.Length <= limits.MaxMessageChars ? prompt
        : throw ApiException.Invalid("prompt", $"'prompt' has {prompt.Length} characters; this server takes at most {limits.MaxMessageChars}");

    /// <summary>The prompt's token ids (ids given are checked against the vocabulary).</summary>
    public int[] Tokens(BpeTokenizer tokenizer, int vocabSize)
    {
        if (PromptIds is null) return tokenizer.Encode(PromptText ?? "");
        int bad = PromptIds.ToList().FindIndex(id => id >= vocabSize);
        return bad < 0 ? [.. PromptIds] : throw ApiException.Invalid("prompt", $"'prompt[{bad}]' = {PromptIds[bad]} is outside the vocabulary (0..{vocabSize - 1})");
    }
}
