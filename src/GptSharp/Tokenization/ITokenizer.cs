namespace GptSharp.Tokenization;

/// <summary>What data preparation, training and generation need from a tokenizer.</summary>
public interface ITokenizer
{
    int VocabSize { get; }
    int EndOfTextId { get; }
    /// <summary>Ordinary text: special-token strings inside it are encoded as plain text.</summary>
    int[] Encode(string text);
    string Decode(IEnumerable<int> ids);
    /// <summary>True for a special token (<c>&lt;|endoftext|&gt;</c>, a chat role marker): markup, never text for a reader.</summary>
    bool IsSpecial(int id) => false;
}

/// <summary>Decoding for people: what a reply or a continuation shows.</summary>
public static class TokenizerText
{
    /// <summary>The text of <paramref name="ids"/> with special tokens left out, so a reply never shows "&lt;|endoftext|&gt;".</summary>
    public static string DecodeText(this ITokenizer tokenizer, IEnumerable<int> ids) => tokenizer.Decode(ids.Where(id => !tokenizer.IsSpecial(id)));
}
