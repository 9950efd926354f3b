using System.Globalization;
using System.Text;
using ICU4N.Text;

namespace GptSharp.Chat.Safety;

/// <summary>
/// The form of a text that a <see cref="ContentFilter"/> matches on, so trivial variants of a banned phrase match too:
/// Unicode NFKC with case folding (fullwidth letters, ligatures, "KILL" and "kill" alike; zero-width characters
/// removed), every run of whitespace as one space, and no space at all between two Chinese/Japanese/Korean characters
/// ("白 痴" is "白痴"). Each character of <see cref="Text"/> remembers the range of the original text it came from, so a
/// match can be cut or masked in the original.
/// <para>string.Normalize cannot do this: under InvariantGlobalization it returns the text unchanged. ICU4N's
/// normalizer carries its own Unicode data.</para>
/// </summary>
internal sealed class FilterText
{
    static readonly Normalizer2 Fold = Normalizer2.NFKCCaseFoldInstance;

    readonly List<int> starts, ends;
    readonly int originalLength;

    FilterText(string text, List<int> starts, List<int> ends, int originalLength) =>
        (Text, this.starts, this.ends, this.originalLength) = (text, starts, ends, originalLength);

    /// <summary>The normalised text.</summary>
    public string Text { get; }

    /// <summary>Where in the original the normalised character at <paramref name="index"/> starts (the original's length past the end).</summary>
    public int OriginalStart(int index) => index < starts.Count ? starts[index] : originalLength;

    /// <summary>Where in the original the normalised character at <paramref name="index"/> ends.</summary>
    public int OriginalEnd(int index) => ends[index];

    /// <summary>Normalises <paramref name="original"/> one grapheme cluster at a time (so accents stay with their letter).</summary>
    public static FilterText Of(string original)
    {
        var text = new StringBuilder(original.Length);
        List<int> starts = new(original.Length), ends = new(original.Length);
        int spaceFrom = -1; // the start of a whitespace run not yet written
        for (int at = 0; at < original.Length;)
        {
            int length = StringInfo.GetNextTextElementLength(original, at);
            string element = original.Substring(at, length);
            if (element.All(char.IsWhiteSpace))
            {
                if (spaceFrom < 0) spaceFrom = at;
                at += length;
                continue;
            }
            string folded = Fold.Normalize(element);
            if (folded.Length == 0) { at += length; continue; } // an ignorable character: as if it were not there
            if (spaceFrom >= 0)
            {
                // A space between two CJK characters is no word break: those scripts have none.
                if (!(text.Length > 0 && IsCjk(text[^1]) && IsCjk(folded[0]))) Add(text, starts, ends, " ", spaceFrom, at);
                spaceFrom = -1;
            }
            Add(text, starts, ends, folded, at, at + length);
            at += length;
        }
        if (spaceFrom >= 0) Add(text, starts, ends, " ", spaceFrom, original.Length);
        return new FilterText(text.ToString(), starts, ends, original.Length);
    }

    static void Add(StringBuilder text, List<int> starts, List<int> ends, string piece, int start, int end)
    {
        text.Append(piece);
        for (int i = 0; i < piece.Length; i++) { starts.Add(start); ends.Add(end); }
    }

    /// <summary>Chinese, Japanese and Korean characters: written without spaces between words.</summary>
    public static bool IsCjk(char c) => c is (>= '\u3040' and <= '\u30FF') or (>= '\u3400' and <= '\u4DBF') or (>= '\u4E00' and <= '\u9FFF')
        or (>= '\uAC00' and <= '\uD7AF') or (>= '\uF900' and <= '\uFAFF');

    /// <summary>The same characters as a .NET regex class.</summary>
    public const string CjkClass = @"\u3040-\u30FF\u3400-\u4DBF\u4E00-\u9FFF\uAC00-\uD7AF\uF900-\uFAFF";

    /// <summary>A letter or digit that is part of a space-separated word (Latin, Cyrillic, …): not CJK.</summary>
    public static bool IsWordChar(char c) => char.IsLetterOrDigit(c) && !IsCjk(c);
}
