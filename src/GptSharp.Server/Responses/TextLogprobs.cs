using GptSharp.Inference;
using GptSharp.Tokenization;

namespace GptSharp.Server.Responses;

/// <summary>
/// A text completion choice's <c>logprobs</c>, in the legacy completions shape: tokens, their log-probabilities, the
/// top alternatives of each as token → log-probability, and each token's character offset in the completion's text.
/// </summary>
public sealed record TextLogprobs(IReadOnlyList<string> Tokens, IReadOnlyList<double> TokenLogprobs,
    IReadOnlyList<IReadOnlyDictionary<string, double>> TopLogprobs, IReadOnlyList<int> TextOffset)
{
    /// <param name="offset">Characters of the completion before these tokens (streamed pieces continue the count).</param>
    public static TextLogprobs From(IReadOnlyList<TokenLogprob> tokens, BpeTokenizer tokenizer, ref int offset)
    {
        var texts = tokens.Select(t => ChatLogprobs.TokenText(t.Id, tokenizer)).ToArray();
        var offsets = new int[texts.Length];
        for (int i = 0; i < texts.Length; i++)
        {
            offsets[i] = offset;
            offset += texts[i].Length;
        }
        var top = tokens.Select(t =>
        {
            var d = new Dictionary<string, double>();
            foreach (var a in t.Top) d.TryAdd(ChatLogprobs.TokenText(a.Id, tokenizer), a.Logprob); // two ids may read the same
            return (IReadOnlyDictionary<string, double>)d;
        }).ToArray();
        return new TextLogprobs(texts, [.. tokens.Select(t => t.Logprob)], top, offsets);
    }
}
