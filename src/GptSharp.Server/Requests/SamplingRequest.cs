using System.Text.Json;
using GptSharp.Inference;
using GptSharp.Server.Errors;
using GptSharp.Server.Options;

namespace GptSharp.Server.Requests;

/// <summary>
/// The decoding fields chat and text completions share, checked: OpenAI's (temperature, top_p, n, max_tokens /
/// max_completion_tokens, stop, seed, presence and frequency penalties, logit_bias, logprobs (chat: logprobs + top_logprobs;
/// completions: logprobs as a count), stream, stream_options, user) and the common extras top_k, min_p and repetition_penalty.
/// </summary>
public sealed record SamplingRequest
{
    public required string Model { get; init; }
    public double? Temperature { get; init; }
    public double? TopP { get; init; }
    public int? TopK { get; init; }
    public double? RepetitionPenalty { get; init; }
    public double? PresencePenalty { get; init; }
    public double? FrequencyPenalty { get; init; }
    public IReadOnlyDictionary<int, double>? LogitBias { get; init; }
    public double? MinP { get; init; }
    public int N { get; init; } = 1;
    /// <summary>max_completion_tokens, else max_tokens; null for the model's default (bounded by the context).</summary>
    public int? MaxTokens { get; init; }
    /// <summary>"max_completion_tokens" or "max_tokens": the field to name in errors.</summary>
    public string MaxTokensField { get; init; } = "max_tokens";
    public IReadOnlyList<string> Stop { get; init; } = [];
    public long? Seed { get; init; }
    public bool Stream { get; init; }
    public bool IncludeUsage { get; init; }
    public string? User { get; init; }
    /// <summary>Report each token's log-probability with this many alternatives; null: none.</summary>
    public int? Logprobs { get; init; }

    /// <param name="chat">Chat's logprobs are a bool with top_logprobs (0–20); text completions' a count (0–5).</param>
    public static SamplingRequest Read(JsonFields f, ServerOptions limits, bool chat)
    {
        string model = f.String("model") ?? throw ApiException.Invalid("model", "'model' is required: name one of GET /v1/models", "missing_required_parameter");
        string maxField = f.Has("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        int n = (int)(f.Integer("n", 1, limits.MaxChoices) ?? 1);
        int? max = (int?)f.Integer(maxField, 1, limits.MaxTokensLimit);
        if (max is { } m && (long)m * n > limits.MaxTokensLimit)
            throw ApiException.Invalid(maxField, $"n × '{maxField}' must be at most {limits.MaxTokensLimit} (got {n} × {m})");
        int? logprobs;
        if (chat)
        {
            int? top = (int?)f.Integer("top_logprobs", 0, GenerationOptions.MaxLogprobs);
            bool asked = f.Bool("logprobs") ?? false;
            if (top > 0 && !asked) throw ApiException.Invalid("top_logprobs", "'top_logprobs' needs 'logprobs' set to true");
            logprobs = asked ? top ?? 0 : null;
        }
        else logprobs = (int?)f.Integer("logprobs", 0, 5);
        bool stream = f.Bool("stream") ?? false;
        return new SamplingRequest
        {
            Model = model,
            Temperature = f.Number("temperature", 0, 2),
            TopP = f.Number("top_p", 0, 1),
            TopK = (int?)f.Integer("top_k", 0, int.MaxValue),
            RepetitionPenalty = f.Number("repetition_penalty", double.Epsilon, 100),
            PresencePenalty = f.Number("presence_penalty", -2, 2),
            FrequencyPenalty = f.Number("frequency_penalty", -2, 2),
            LogitBias = ReadLogitBias(f),
            MinP = f.Number("min_p", 0, 1),
            N = n,
            MaxTokens = max,
            MaxTokensField = maxField,
            Stop = Stops(f),
            Seed = f.Integer("seed", long.MinValue, long.MaxValue),
            Stream = stream,
            IncludeUsage = ReadIncludeUsage(f, stream),
            User = f.String("user"),
            Logprobs = logprobs,
        };
    }

    static void Unsupported(bool asked, string param, string message)
    {
        if (asked) throw ApiException.Invalid(param, message, "unsupported_parameter");
    }

    /// <summary>"logit_bias": token ids (as JSON keys) to biases in [-100, 100], as OpenAI's.</summary>
    static IReadOnlyDictionary<int, double>? ReadLogitBias(JsonFields f)
    {
        if (f.Get("logit_bias") is not { } v) return null;
        if (v.ValueKind != JsonValueKind.Object) throw JsonFields.Wrong("logit_bias", "an object mapping token ids to biases", v);
        var bias = new Dictionary<int, double>();
        foreach (var p in v.EnumerateObject())
        {
            if (!int.TryParse(p.Name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int id))
                throw ApiException.Invalid("logit_bias", $"'logit_bias' keys must be token ids, not '{p.Name}'");
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetDouble(out double b) || b < -100 || b > 100)
                throw ApiException.Invalid("logit_bias", $"'logit_bias[{p.Name}]' must be a number between -100 and 100");
            bias[id] = b;
        }
        return bias.Count > 0 ? bias : null;
    }

    /// <summary>"stop": a string or an array of up to 4 non-empty strings.</summary>
    static IReadOnlyList<string> Stops(JsonFields f)
    {
        switch (f.Get("stop"))
        {
            case null: return [];
            case { ValueKind: JsonValueKind.String } s:
                return s.GetString() is { Length: > 0 } one ? [one] : throw ApiException.Invalid("stop", "'stop' must not be empty");
            case { ValueKind: JsonValueKind.Array } a:
                var stops = a.EnumerateArray().Select((e, i) => e.ValueKind == JsonValueKind.String && e.GetString() is { Length: > 0 } t ? t
                    : throw ApiException.Invalid("stop", $"'stop[{i}]' must be a non-empty string")).ToArray();
                return stops.Length <= 4 ? stops : throw ApiException.Invalid("stop", $"'stop' may hold at most 4 sequences (got {stops.Length})");
            case var v: throw JsonFields.Wrong("stop", "a string or an array of strings", v.Value);
        }
    }

    static bool ReadIncludeUsage(JsonFields f, bool stream)
    {
        if (f.Get("stream_options") is not { } o) return false;
        if (o.ValueKind != JsonValueKind.Object) throw JsonFields.Wrong("stream_options", "an object", o);
        if (!stream) throw ApiException.Invalid("stream_options", "'stream_options' is only allowed when 'stream' is true");
        if (!o.TryGetProperty("include_usage", out var u) || u.ValueKind == JsonValueKind.Null) return false;
        return u.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw JsonFields.Wrong("stream_options.include_usage", "true or false", u),
        };
    }

    /// <summary>
    /// The options for each choice: the model's generation_config.json defaults with this request's fields over them.
    /// max_tokens defaults to the model's max_new_tokens, bounded by the room the prompt leaves; a prompt that leaves no
    /// room, or an explicit max_tokens beyond it, is a 400 <c>context_length_exceeded</c> (as OpenAI's). With a seed, choice
    /// i uses seed + i so that choices differ but repeat.
    /// </summary>
    public IReadOnlyList<GenerationOptions> ForChoices(GenerationOptions defaults, int promptTokens, int context, int vocabSize, int maxTokensLimit, string promptParam)
    {
        if (LogitBias?.Keys.Where(id => id >= vocabSize).Select(id => (int?)id).FirstOrDefault() is { } outside)
            throw ApiException.Invalid("logit_bias", $"'logit_bias' names token {outside}, outside this model's vocabulary (0..{vocabSize - 1})");
        int room = context - promptTokens;
        if (room < 1 || MaxTokens > room)
            throw new ApiException(400,
                $"This model's maximum context length is {context} tokens. However, you requested {promptTokens + (MaxTokens ?? 1)} tokens " +
                $"({promptTokens} in the {promptParam}, {MaxTokens ?? 1} in the completion). Please reduce the length of the {promptParam} or completion.",
                promptParam, "context_length_exceeded");
        int max = MaxTokens ?? Math.Min(Math.Min(defaults.MaxNewTokens, maxTokensLimit), room);
        var options = defaults.Override(new GenerationOverrides
        {
            MaxNewTokens = max,
            MinNewTokens = Math.Min(defaults.MinNewTokens, max),
            Temperature = Temperature,
            TopP = TopP is 0 ? null : TopP,
            Greedy = TopP is 0 ? true : null, // top_p 0 keeps only the most likely token
            TopK = TopK,
            RepetitionPenalty = RepetitionPenalty,
            PresencePenalty = PresencePenalty,
            FrequencyPenalty = FrequencyPenalty,
            LogitBias = LogitBias,
            MinP = MinP,
            StopSequences = Stop.Count > 0 ? Stop : null,
            NumBeams = 1, NumReturnSequences = 1, // streamed, one sequence per choice
            PromptOverflow = Inference.PromptOverflow.Error,
        });
        return Enumerable.Range(0, N).Select(i => options with { Seed = (Seed ?? defaults.Seed) is { } s ? unchecked(s + i) : null, Logprobs = Logprobs }).ToArray();
    }
}
