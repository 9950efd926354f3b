using GptSharp.Tokenization;

namespace GptSharp.Inference;

/// <summary>Finds stop sequences in decoded output, which may span several tokens.</summary>
public static class StopSequenceMatch
{
    /// <summary>The character index in <paramref name="text"/> where the earliest stop sequence starts, or -1.</summary>
    public static int Find(string text, IReadOnlyList<string> stops)
    {
        int at = -1;
        foreach (string s in stops)
        {
            int i = text.IndexOf(s, StringComparison.Ordinal);
            if (i >= 0 && (at < 0 || i < at)) at = i;
        }
        return at;
    }

    /// <summary>
    /// Output <paramref name="ids"/> whose text holds a stop sequence at character <paramref name="cut"/>: the text before
    /// it, and the ids whose text lies wholly before it.
    /// </summary>
    public static (int[] Ids, string Text) CutBefore(ITokenizer tokenizer, IReadOnlyList<int> ids, int cut)
    {
        string text = tokenizer.DecodeText(ids);
        cut = Math.Min(cut, text.Length);
        return (ids.Take(TokensBefore(tokenizer, ids, text, cut)).ToArray(), text[..cut]);
    }

    /// <summary>How many of <paramref name="ids"/> decode to text that lies wholly before character <paramref name="cut"/>.</summary>
    public static int TokensBefore(ITokenizer tokenizer, IReadOnlyList<int> ids, string text, int cut)
    {
        for (int k = ids.Count; k > 0; k--)
        {
            string prefix = tokenizer.DecodeText(ids.Take(k));
            if (prefix.Length <= cut && text.StartsWith(prefix, StringComparison.Ordinal)) return k;
        }
        return 0;
    }
}
