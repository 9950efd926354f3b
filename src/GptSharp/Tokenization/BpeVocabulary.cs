namespace GptSharp.Tokenization;

/// <summary>
/// A validated byte-level BPE vocabulary: what vocab.json, merges.txt and tokenizer_config.json say, checked for
/// consistency. <see cref="Tokens"/> holds the ordinary (byte-level) tokens; special tokens are kept apart so that plain
/// text can never encode to them.
/// </summary>
sealed record BpeVocabulary(
    IReadOnlyDictionary<string, int> Tokens,
    IReadOnlyList<(string Left, string Right)> Merges,
    IReadOnlyList<(string Content, int Id)> SpecialTokens,
    string EndOfText);
