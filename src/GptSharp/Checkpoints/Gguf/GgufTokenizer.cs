using GptSharp.Tokenization;

namespace GptSharp.Checkpoints.Gguf;

/// <summary>
/// A GptSharp tokenizer as llama.cpp's GPT-2 BPE tokenizer metadata, the way its <c>convert_hf_to_gguf.py</c> writes
/// one: one token per embedding row (byte-level text as in vocab.json; special tokens as themselves, marked
/// control; ids no token owns filled with <c>[PADn]</c>, marked unused), the merges in rank order as "left right", and
/// <c>&lt;|endoftext|&gt;</c> as BOS and EOS. The pre-tokenizer is "gpt-2": our regex is GPT-2's.
/// </summary>
public static class GgufTokenizer
{
    public const string TokensKey = "tokenizer.ggml.tokens", TokenTypeKey = "tokenizer.ggml.token_type", MergesKey = "tokenizer.ggml.merges";
    public const string ModelKey = "tokenizer.ggml.model", PreKey = "tokenizer.ggml.pre", ChatTemplateKey = "tokenizer.chat_template";
    public const string BosKey = "tokenizer.ggml.bos_token_id", EosKey = "tokenizer.ggml.eos_token_id", AddBosKey = "tokenizer.ggml.add_bos_token";

    /// <summary>The tokens of ids 0 … <paramref name="vocabSize"/> − 1 and their types.</summary>
    public static (string[] Tokens, int[] Types) Tokens(BpeTokenizer tokenizer, int vocabSize)
    {
        var tokens = new string[vocabSize];
        var types = new int[vocabSize];
        for (int id = 0; id < vocabSize; id++)
        {
            string? token = tokenizer.TryIdToToken(id);
            (tokens[id], types[id]) = token is null ? ($"[PAD{id}]", (int)GgufTokenType.Unused)
                : (token, (int)(tokenizer.IsSpecial(id) ? GgufTokenType.Control : GgufTokenType.Normal));
        }
        return (tokens, types);
    }

    /// <summary>
    /// Adds the tokenizer keys, and the chat template when <paramref name="chatTemplate"/> is given. Tokens past
    /// <paramref name="vocabSize"/> (role tokens a stock GPT-2 checkpoint has no rows for) are left out.
    /// </summary>
    public static void AddTo(GgufWriter writer, BpeTokenizer tokenizer, int vocabSize, string? chatTemplate)
    {
        var (tokens, types) = Tokens(tokenizer, vocabSize);
        writer.Add(ModelKey, GgufValue.Of("gpt2"));
        writer.Add(PreKey, GgufValue.Of("gpt-2"));
        writer.Add(TokensKey, GgufValue.Of(tokens));
        writer.Add(TokenTypeKey, GgufValue.Of(types));
        writer.Add(MergesKey, GgufValue.Of(tokenizer.Merges.Select(m => $"{m.Left} {m.Right}")));
        writer.Add(BosKey, GgufValue.Of((uint)tokenizer.EndOfTextId));
        writer.Add(EosKey, GgufValue.Of((uint)tokenizer.EndOfTextId));
        writer.Add(AddBosKey, GgufValue.Of(false)); // GptSharp prompts start with their own text, no BOS
        if (chatTemplate is not null) writer.Add(ChatTemplateKey, GgufValue.Of(chatTemplate));
    }
}
