using System.Text;
using GptSharp.Inference;
using GptSharp.Tokenization;

namespace GptSharp.Server.Responses;

/// <summary>A chat choice's <c>logprobs</c>, as OpenAI's: each token's text, log-probability, UTF-8 bytes and top alternatives.</summary>
public sealed record ChatLogprobs(IReadOnlyList<ChatLogprobs.Token> Content)
{
    public string? Refusal => null;

    public sealed record Token(
        [property: System.Text.Json.Serialization.JsonPropertyName("token")] string Text, double Logprob, IReadOnlyList<int> Bytes,
        IReadOnlyList<Alternative> TopLogprobs);

    public sealed record Alternative(string Token, double Logprob, IReadOnlyList<int> Bytes);

    public static ChatLogprobs From(IEnumerable<TokenLogprob> tokens, BpeTokenizer tokenizer) =>
        new([.. tokens.Select(t => new Token(TokenText(t.Id, tokenizer), t.Logprob, TokenBytes(t.Id, tokenizer),
            [.. t.Top.Select(a => new Alternative(TokenText(a.Id, tokenizer), a.Logprob, TokenBytes(a.Id, tokenizer)))]))]);

    /// <summary>A token's bytes: byte-level BPE tokens may hold part of a character, which only the bytes show exactly.</summary>
    internal static int[] TokenBytes(int id, BpeTokenizer tokenizer) => [.. tokenizer.DecodeToBytes([id]).Select(b => (int)b)];

    internal static string TokenText(int id, BpeTokenizer tokenizer) => Encoding.UTF8.GetString(tokenizer.DecodeToBytes([id]));
}
