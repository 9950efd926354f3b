using System.Text;

namespace GptSharp.Tokenization;

/// <summary>
/// Turns token ids into text as they arrive. A token may end in the middle of a UTF-8 character (emoji, CJK), so the
/// bytes of an unfinished character are held back until the ids that complete it come.
/// Concatenating every <see cref="Append"/> result and <see cref="Flush"/> gives the same text as
/// <see cref="BpeTokenizer.Decode"/> of all the ids (with special tokens skipped, <see cref="TokenizerText.DecodeText"/>).
/// </summary>
public sealed class Utf8StreamDecoder(BpeTokenizer tokenizer, bool skipSpecialTokens = false)
{
    readonly Decoder utf8 = new UTF8Encoding(false, throwOnInvalidBytes: false).GetDecoder();
    readonly StringBuilder text = new();

    /// <summary>All the text completed so far.</summary>
    public string Text => text.ToString();

    /// <summary>Adds one id; returns the text it completes (empty while a character is still unfinished).</summary>
    public string Append(int id) => Push(skipSpecialTokens && tokenizer.IsSpecial(id) ? [] : tokenizer.TokenBytes(id), flush: false);

    /// <summary>Ends the stream: an unfinished character at the end becomes U+FFFD.</summary>
    public string Flush() => Push([], flush: true);

    string Push(byte[] bytes, bool flush)
    {
        var chars = new char[utf8.GetCharCount(bytes, flush) + 2];
        int n = utf8.GetChars(bytes, chars, flush);
        var piece = new string(chars, 0, n);
        text.Append(piece);
        return piece;
    }
}
