using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Inference;

/// <summary>
/// The logit changes that depend on the tokens so far (Hugging Face's "logits processors"): repetition penalty,
/// OpenAI's presence and frequency penalties and logit bias, no-repeat n-grams and min_new_tokens. They run before
/// temperature, top-k and top-p.
/// </summary>
public static class LogitsProcessing
{
    /// <summary>
    /// True when the best token <paramref name="id"/> stays the best after <see cref="Apply"/>, whatever the other logits
    /// are: no option that changes values (penalties, bias) is active, and the options that ban tokens (min_new_tokens,
    /// no-repeat n-grams) do not ban this one. Greedy decoding then needs no adjusted copy of the logits.
    /// </summary>
    public static bool KeepsBest(int id, IReadOnlyList<int> tokens, int newTokens, GenerationOptions options, IReadOnlyCollection<int>? endIds)
    {
        if (Penalises(tokens, options) || PenalisesOutput(newTokens, options) || options.LogitBias.Count > 0) return false;
        if (HoldsEnd(newTokens, options, endIds) && endIds!.Contains(id)) return false;
        return options.NoRepeatNgramSize <= 0 || !BannedByNgrams(tokens, options.NoRepeatNgramSize).Contains(id);
    }

    // When each option acts at this step: shared by KeepsBest and Apply.
    static bool Penalises(IReadOnlyList<int> tokens, GenerationOptions o) => o.RepetitionPenalty != 1 && tokens.Count > 0;
    static bool PenalisesOutput(int newTokens, GenerationOptions o) => (o.PresencePenalty != 0 || o.FrequencyPenalty != 0) && newTokens > 0;
    static bool HoldsEnd(int newTokens, GenerationOptions o, IReadOnlyCollection<int>? endIds) => newTokens < o.MinNewTokens && endIds is { Count: > 0 };

    /// <summary>
    /// <paramref name="logits"/> ([vocab]) adjusted for <paramref name="tokens"/> (prompt and output so far), of which
    /// <paramref name="newTokens"/> were generated; <paramref name="endIds"/> end generation, so min_new_tokens bans them
    /// all. Returns the input itself when no option is active.
    /// </summary>
    public static Tensor Apply(Tensor logits, IReadOnlyList<int> tokens, int newTokens, GenerationOptions options, IReadOnlyCollection<int>? endIds)
    {
        bool penalty = Penalises(tokens, options);
        int[] banned = options.NoRepeatNgramSize > 0 ? BannedByNgrams(tokens, options.NoRepeatNgramSize) : [];
        bool holdEnd = HoldsEnd(newTokens, options, endIds);
        bool openAiPenalty = PenalisesOutput(newTokens, options);
        bool bias = options.LogitBias.Count > 0;
        if (!penalty && banned.Length == 0 && !holdEnd && !openAiPenalty && !bias) return logits;

        var x = logits.to(ScalarType.Float32, copy: true);
        if (penalty)
        {
            using var p = options.RepetitionPenalty.ToScalar(); // scalars kept alive across the calls (see Sampling.MinusInfinity)
            using var zero = 0.ToScalar();
            using var ids = tensor(tokens.Distinct().Select(t => (long)t).ToArray(), ScalarType.Int64, x.device);
            using var seen = x.index_select(0, ids);
            using var positive = seen > zero;
            using var divided = seen / p;
            using var multiplied = seen * p;
            using var penalised = where(positive, divided, multiplied);
            x.index_copy_(0, ids, penalised);
        }
        if (openAiPenalty)
        {
            // Over the output only, as OpenAI's API does: presence once per token seen, frequency once per occurrence.
            var counts = tokens.Skip(tokens.Count - newTokens).GroupBy(t => t).ToArray();
            Add(x, counts.Select(g => g.Key), counts.Select(g => -(options.PresencePenalty + options.FrequencyPenalty * g.Count())));
        }
        if (bias) Add(x, options.LogitBias.Keys, options.LogitBias.Values);
        if (holdEnd) banned = [.. banned, .. endIds!];
        if (banned.Length > 0)
        {
            using var ids = tensor(banned.Select(t => (long)t).ToArray(), ScalarType.Int64, x.device);
            x.index_fill_(0, ids, Sampling.MinusInfinity);
        }
        return x;
    }

    /// <summary>Adds <paramref name="amounts"/> to the logits of <paramref name="ids"/>, in place.</summary>
    static void Add(Tensor x, IEnumerable<int> ids, IEnumerable<double> amounts)
    {
        using var index = tensor(ids.Select(t => (long)t).ToArray(), ScalarType.Int64, x.device);
        using var delta = tensor(amounts.Select(a => (float)a).ToArray(), ScalarType.Float32, x.device);
        using var one = 1.ToScalar();
        x.index_add_(0, index, delta, one);
    }

    /// <summary>
    /// The tokens that would complete an n-gram already present in <paramref name="tokens"/>: for each earlier
    /// occurrence of the last n-1 tokens, the token that followed it.
    /// </summary>
    public static int[] BannedByNgrams(IReadOnlyList<int> tokens, int n)
    {
        int count = tokens.Count;
        if (n <= 0 || count < n) return []; // with fewer than n tokens no n-gram can have occurred yet
        if (n == 1) return tokens.Distinct().ToArray();
        var banned = new HashSet<int>();
        int prefixStart = count - (n - 1);
        for (int start = 0; start + n <= count; start++)
        {
            bool same = true;
            for (int j = 0; j < n - 1 && same; j++) same = tokens[start + j] == tokens[prefixStart + j];
            if (same) banned.Add(tokens[start + n - 1]);
        }
        return banned.ToArray();
    }
}
