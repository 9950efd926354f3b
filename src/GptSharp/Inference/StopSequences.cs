using GptSharp.Tokenization;

namespace GptSharp.Inference;

/// <summary>
/// Watches generated output for exact stop sequences, incrementally: it is fed the output piece by piece (token ids,
/// or text already decoded), says which text is now safe to show, and where the output is cut.
/// <para>Text that could still be the start of a stop sequence is held back until the next piece decides, so nothing
/// past the cut is ever shown (as OpenAI's streaming API behaves); a stop sequence may span several pieces.</para>
/// <para>Fed token ids, it decodes only the tokens whose text may still change: text is "settled" up to the last token
/// after which the decoded text ends cleanly; the tokens after it stay pending while they end inside a UTF-8 character
/// (their text then ends in U+FFFD), as when a Chinese character spans two byte-level tokens. Settled text never
/// changes when tokens are added (UTF-8 resynchronises at a character boundary), so a step costs about the longest stop
/// sequence plus a token or two, whatever the output's length, and the text it releases never holds half a character.</para>
/// <para>Small and copyable (<see cref="Clone"/>), so beam search keeps one per beam. With no stop sequences it is
/// simply an incremental decoder.</para>
/// </summary>
public sealed class StopSequences
{
    readonly IReadOnlyList<string> _stops;
    readonly ITokenizer? _tokenizer;
    string _held = "";     // released-to-be text that could still begin a stop sequence (a proper prefix of one)
    int _released;         // characters released so far
    List<int> _pending = []; // tokens whose text is not settled yet

    /// <param name="stops">The stop sequences (non-empty strings); none makes this a plain incremental decoder.</param>
    /// <param name="tokenizer">Decodes the ids given to <see cref="Push(int)"/> (special tokens left out); not needed for text pieces.</param>
    public StopSequences(IReadOnlyList<string> stops, ITokenizer? tokenizer = null)
    {
        _stops = stops;
        _tokenizer = tokenizer;
    }

    StopSequences(StopSequences from)
    {
        (_stops, _tokenizer) = (from._stops, from._tokenizer);
        (_held, _released, _pending, Cut) = (from._held, from._released, [.. from._pending], from.Cut);
    }

    /// <summary>Where the earliest stop sequence starts in the whole output's text (a character index), or -1 while none has appeared.</summary>
    public int Cut { get; private set; } = -1;

    /// <summary>True once the output holds a stop sequence; everything from <see cref="Cut"/> on is dropped, and later pieces are ignored.</summary>
    public bool Stopped => Cut >= 0;

    /// <summary>Adds the next generated token; returns the text now safe to show (possibly empty).</summary>
    public string Push(int id)
    {
        if (Stopped) return "";
        var tokenizer = _tokenizer ?? throw new InvalidOperationException("token ids need a StopSequences created with a tokenizer");
        _pending.Add(id);
        string fresh = tokenizer.DecodeText(_pending);
        // A match is looked for at once, even in text that ends inside a character (it cannot change before that point).
        if (Find(_held + fresh, _stops) >= 0) return Release(fresh);
        if (fresh.EndsWith('\uFFFD')) return "";
        _pending.Clear();
        return Release(fresh);
    }

    /// <summary>Adds a piece of decoded text; returns the text now safe to show (possibly empty).</summary>
    public string Push(string piece) => Stopped ? "" : Release(piece);

    /// <summary>
    /// The output is complete: returns what was held back (with the pending tokens' text, an unfinished character as
    /// U+FFFD), unless a stop sequence turns up in it; then only the text before it.
    /// </summary>
    public string Flush()
    {
        if (Stopped) return "";
        string rest = _pending.Count > 0 ? _tokenizer!.DecodeText(_pending) : "";
        _pending.Clear();
        string text = Release(rest);
        if (Stopped) return text;
        text += _held;
        _released += _held.Length;
        _held = "";
        return text;
    }

    /// <summary>An independent copy (a beam that branches off this one).</summary>
    public StopSequences Clone() => new(this);

    string Release(string piece)
    {
        string window = _held + piece;
        int at = Find(window, _stops);
        if (at >= 0)
        {
            Cut = _released + at;
            _released += at;
            _held = "";
            _pending.Clear();
            return window[..at];
        }
        int hold = _stops.Count == 0 ? 0 : _stops.Max(s => HeldBack(window, s));
        _held = window[^hold..];
        _released += window.Length - hold;
        return window[..^hold];
    }

    /// <summary>The longest end of <paramref name="text"/> that is a proper beginning of <paramref name="stop"/>.</summary>
    static int HeldBack(string text, string stop)
    {
        for (int n = Math.Min(stop.Length - 1, text.Length); n > 0; n--)
            if (text.AsSpan(text.Length - n).SequenceEqual(stop.AsSpan(0, n))) return n;
        return 0;
    }

    /// <summary>The character index in <paramref name="text"/> where the earliest of <paramref name="stops"/> starts, or -1.</summary>
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
    static int TokensBefore(ITokenizer tokenizer, IReadOnlyList<int> ids, string text, int cut)
    {
        for (int k = ids.Count; k > 0; k--)
        {
            string prefix = tokenizer.DecodeText(ids.Take(k));
            if (prefix.Length <= cut && text.StartsWith(prefix, StringComparison.Ordinal)) return k;
        }
        return 0;
    }
}
