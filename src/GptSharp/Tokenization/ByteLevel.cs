using System.Text.RegularExpressions;

namespace GptSharp.Tokenization;

/// <summary>
/// GPT-2's byte-level conventions: the pre-tokenizer regex and the byte-to-character mapping (<c>bytes_to_unicode</c>)
/// that lets every byte be written as a printable character in vocab.json and merges.txt.
/// </summary>
static partial class ByteLevel
{
    /// <summary>
    /// GPT-2's pre-tokenizer. .NET's <c>\s</c> is Unicode White_Space (U+0085 yes, U+FEFF no), the same as tiktoken and
    /// OpenAI's encoder.py; RegexOptions.ECMAScript would change that, so it is deliberately absent.
    /// </summary>
    public const string Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    [GeneratedRegex(Pattern)]
    public static partial Regex PreTokenizer();

    /// <summary>The character standing for each byte value.</summary>
    public static readonly char[] ByteToChar;

    /// <summary>The byte each mapped character stands for, or -1; indexed by character (all are below U+0144).</summary>
    static readonly short[] CharToByte;

    /// <summary>
    /// The 256 bytes in GPT-2's vocabulary order: printable Latin-1 first (ids 0..187), then the rest (188..255).
    /// GPT-2's ids 0..255 are exactly these single-byte tokens, and a trained vocabulary uses the same order.
    /// </summary>
    public static readonly byte[] BytesInVocabOrder;

    static ByteLevel()
    {
        var order = new List<byte>();
        for (int b = '!'; b <= '~'; b++) order.Add((byte)b);
        for (int b = 0xA1; b <= 0xAC; b++) order.Add((byte)b);
        for (int b = 0xAE; b <= 0xFF; b++) order.Add((byte)b);
        ByteToChar = new char[256];
        foreach (byte b in order) ByteToChar[b] = (char)b;
        int next = 0;
        for (int b = 0; b < 256; b++)
        {
            if (order.Contains((byte)b)) continue;
            order.Add((byte)b);
            ByteToChar[b] = (char)(256 + next++);
        }
        BytesInVocabOrder = [.. order];
        CharToByte = new short[256 + next];
        Array.Fill(CharToByte, (short)-1);
        for (int b = 0; b < 256; b++) CharToByte[ByteToChar[b]] = (short)b;
    }

    /// <summary>The bytes a byte-level token string stands for, or null when it has a character outside the mapping.</summary>
    public static byte[]? TryDecode(string token)
    {
        var bytes = new byte[token.Length];
        for (int i = 0; i < token.Length; i++)
        {
            char c = token[i];
            if (c >= CharToByte.Length || CharToByte[c] < 0) return null;
            bytes[i] = (byte)CharToByte[c];
        }
        return bytes;
    }
}
