using System.Text;
using System.Text.Json;
using GptSharp.Tokenization;

namespace GptSharp.Tests.Tokenization;

public class Gpt2TokenizerTests
{
    static readonly BpeTokenizer Gpt2 = BpeTokenizer.Gpt2();

    static string Show(string text) => JsonSerializer.Serialize(text.Length > 80 ? text[..80] + "…" : text);

    [Fact]
    public void Encodes_every_reference_case_exactly_like_tiktoken()
    {
        var cases = Gpt2Cases.All.Value;
        Assert.Equal(221, cases.Count);
        var failures = new List<string>();
        foreach (var c in cases)
        {
            int[] ids = Gpt2.Encode(c.Text);
            if (!ids.SequenceEqual(c.Ids))
                failures.Add($"line {c.Line} ({c.Category}) {Show(c.Text)}: expected [{string.Join(",", c.Ids.Take(16))}…] got [{string.Join(",", ids.Take(16))}…]");
            if (c.IdsAllowedSpecial is { } special && !Gpt2.EncodeWithSpecialTokens(c.Text).SequenceEqual(special))
                failures.Add($"line {c.Line} with special tokens allowed {Show(c.Text)}");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} cases differ:\n{string.Join("\n", failures)}");
    }

    [Fact]
    public void Decodes_every_reference_case_back_to_its_text_and_bytes()
    {
        var failures = new List<string>();
        foreach (var c in Gpt2Cases.All.Value)
        {
            // Bytes first (a token may be part of a character), then UTF-8; a leading U+FEFF must survive.
            if (!Gpt2.DecodeToBytes(c.Ids).SequenceEqual(Encoding.UTF8.GetBytes(c.Text)) || Gpt2.Decode(c.Ids) != c.Text)
                failures.Add($"line {c.Line} {Show(c.Text)}");
        }
        Assert.True(failures.Count == 0, $"{failures.Count} cases do not round-trip:\n{string.Join("\n", failures)}");
    }

    [Fact]
    public void Has_gpt2_vocabulary_plus_chat_role_tokens()
    {
        Assert.Equal(50261, Gpt2.VocabSize);
        Assert.Equal(50256, Gpt2.EndOfTextId);
        Assert.Equal(SpecialTokens.All, Gpt2.SpecialTokenNames);
        Assert.Equal(50256, Gpt2.TokenToId(SpecialTokens.EndOfText));
        Assert.Equal(50257, Gpt2.TokenToId(SpecialTokens.System));
        Assert.Equal(50258, Gpt2.TokenToId(SpecialTokens.User));
        Assert.Equal(50259, Gpt2.TokenToId(SpecialTokens.Assistant));
        Assert.Equal(50260, Gpt2.TokenToId(SpecialTokens.End));
        Assert.Equal(220, Gpt2.TokenToId("Ġ"));
        Assert.Equal(188, Gpt2.TokenToId("Ā")); // byte 0x00
        Assert.Null(Gpt2.TokenToId("not a token"));
        Assert.Equal(50000, Gpt2.Merges.Count);
        Assert.Same(Gpt2, BpeTokenizer.Gpt2());
    }

    [Fact]
    public void Special_token_strings_are_plain_text_unless_allowed()
    {
        string text = "<|system|>Be brief.<|end|><|user|>Hi<|end|><|assistant|>Hello!<|end|><|endoftext|>";
        int[] plain = Gpt2.Encode(text);
        Assert.DoesNotContain(plain, id => id >= 50256);
        Assert.Equal(text, Gpt2.Decode(plain));

        int[] special = Gpt2.EncodeWithSpecialTokens(text);
        Assert.Equal([50257, .. Gpt2.Encode("Be brief."), 50260, 50258, .. Gpt2.Encode("Hi"), 50260, 50259, .. Gpt2.Encode("Hello!"), 50260, 50256], special);
        Assert.Equal(text, Gpt2.Decode(special));
        Assert.True(Gpt2.IsSpecial(50258));
        Assert.False(Gpt2.IsSpecial(220));
        Assert.Equal("<|user|>", Gpt2.IdToToken(50258));
    }

    [Fact]
    public void Partial_utf8_tokens_decode_to_bytes_and_stream_decoder_waits_for_whole_characters()
    {
        string text = "Hi 😀 你好";
        int[] ids = Gpt2.Encode(text);
        // The emoji is split over tokens that are not UTF-8 on their own.
        Assert.Contains(ids, id => Gpt2.DecodeToBytes([id]) is var b && !IsValidUtf8(b));

        var decoder = Gpt2.CreateStreamDecoder();
        var pieces = ids.Select(decoder.Append).ToList();
        pieces.Add(decoder.Flush());
        Assert.Equal(text, string.Concat(pieces));
        Assert.Equal(text, decoder.Text);
        Assert.DoesNotContain(pieces, p => p.Contains('\uFFFD'));
        Assert.Contains(pieces, p => p.Length == 0); // held back while a character was unfinished

        // A stream cut inside a character ends with U+FFFD, as Decode does.
        int k = Enumerable.Range(1, ids.Length).First(n => !IsValidUtf8(Gpt2.DecodeToBytes(ids.Take(n))));
        var cut = Gpt2.CreateStreamDecoder();
        string partial = string.Concat(ids.Take(k).Select(cut.Append)) + cut.Flush();
        Assert.Equal(Gpt2.Decode(ids.Take(k)), partial);
        Assert.EndsWith("\uFFFD", partial);
    }

    static bool IsValidUtf8(byte[] bytes) => System.Text.Unicode.Utf8.IsValid(bytes);

    [Fact]
    public void Unknown_ids_are_rejected()
    {
        var e = Assert.Throws<GptSharpException>(() => Gpt2.Decode([15496, 50261]));
        Assert.Contains("50261", e.Message);
        Assert.Throws<GptSharpException>(() => Gpt2.DecodeToBytes([-1]));
        Assert.Throws<GptSharpException>(() => Gpt2.CreateStreamDecoder().Append(99999));
    }
}
