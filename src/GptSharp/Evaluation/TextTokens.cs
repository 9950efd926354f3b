using System.Globalization;
using System.Text;

namespace GptSharp.Evaluation;

/// <summary>
/// How the metrics split text into tokens. Words are runs of non-space characters; every CJK character (Han,
/// kana, Hangul, CJK punctuation and full-width forms) is a token on its own, because Chinese and Japanese are
/// written without spaces and splitting them on whitespace would make a whole sentence one token.
/// <para>
/// <see cref="ForMatching"/> (exact match and F1) follows SQuAD's normalisation first: lower case, drop punctuation
/// and the English articles a/an/the, collapse whitespace. <see cref="ForBleu"/> keeps case and punctuation but
/// splits punctuation off words, like the common BLEU tokenisers, so "it." and "it" share the unigram "it".
/// </para>
/// </summary>
public static class TextTokens
{
    static readonly HashSet<string> Articles = ["a", "an", "the"];

    /// <summary>SQuAD-normalised tokens for exact match and F1.</summary>
    public static IReadOnlyList<string> ForMatching(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char ch in text.ToLowerInvariant())
            sb.Append(IsPunctuation(ch) ? ' ' : ch);
        return Split(sb.ToString(), keepPunctuation: false).Where(t => !Articles.Contains(t)).ToList();
    }

    /// <summary>Case-preserving tokens with punctuation split off, for BLEU.</summary>
    public static IReadOnlyList<string> ForBleu(string text) => Split(text, keepPunctuation: true);

    /// <summary>The normalised text exact match compares: <see cref="ForMatching"/> tokens joined by single spaces.</summary>
    public static string Normalize(string text) => string.Join(' ', ForMatching(text));

    static List<string> Split(string text, bool keepPunctuation)
    {
        var tokens = new List<string>();
        var word = new StringBuilder();
        void Flush() { if (word.Length > 0) { tokens.Add(word.ToString()); word.Clear(); } }
        for (int i = 0; i < text.Length; i++)
        {
            // Whole code points, so a CJK character outside the BMP (a surrogate pair) stays one token.
            int cp = CodePointAt(text, i, out int width);
            string s = text.Substring(i, width);
            i += width - 1;
            if (Rune.IsWhiteSpace(new Rune(cp))) Flush();
            else if (IsCjk(cp) || (keepPunctuation && IsPunctuation(cp))) { Flush(); tokens.Add(s); }
            else word.Append(s);
        }
        Flush();
        return tokens;
    }

    static int CodePointAt(string text, int i, out int width)
    {
        if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
        {
            width = 2;
            return char.ConvertToUtf32(text[i], text[i + 1]);
        }
        width = 1;
        return char.IsSurrogate(text[i]) ? 0xFFFD : text[i];
    }

    static bool IsPunctuation(int cp) =>
        Rune.IsValid(cp) && Rune.GetUnicodeCategory(new Rune(cp)) is
            UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
            or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation or UnicodeCategory.FinalQuotePunctuation
            or UnicodeCategory.OtherPunctuation or UnicodeCategory.MathSymbol or UnicodeCategory.CurrencySymbol
            or UnicodeCategory.ModifierSymbol or UnicodeCategory.OtherSymbol;

    /// <summary>CJK scripts and their punctuation (blocks from the Unicode standard).</summary>
    public static bool IsCjk(int cp) =>
        cp is >= 0x3000 and <= 0x303F   // CJK symbols and punctuation
           or >= 0x3040 and <= 0x30FF   // hiragana, katakana
           or >= 0x3100 and <= 0x312F   // bopomofo
           or >= 0x3400 and <= 0x4DBF   // CJK extension A
           or >= 0x4E00 and <= 0x9FFF   // CJK unified ideographs
           or >= 0xAC00 and <= 0xD7AF   // Hangul syllables
           or >= 0xF900 and <= 0xFAFF   // CJK compatibility ideographs
           or >= 0xFF00 and <= 0xFFEF   // half-width and full-width forms
           or >= 0x20000 and <= 0x3FFFF; // CJK extensions B and later
}
