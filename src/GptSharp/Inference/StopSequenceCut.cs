namespace GptSharp.Inference;

/// <summary>
/// Cuts streamed text at the first stop sequence. Text that could still be the start of a stop sequence is held
/// back until the next piece decides, so nothing past the cut is ever emitted (as OpenAI's streaming API behaves).
/// Feed it decoded pieces in order (<see cref="Push"/>), then <see cref="Finish"/> once the stream ends without a stop.
/// </summary>
public sealed class StopSequenceCut(IReadOnlyList<string> stops)
{
    string _pending = "";

    /// <summary>The text now safe to emit, and whether a stop sequence was found (everything from it on is dropped).</summary>
    public (string Text, bool Stopped) Push(string piece)
    {
        if (stops.Count == 0) return (piece, false);
        _pending += piece;
        int cut = stops.Select(s => _pending.IndexOf(s, StringComparison.Ordinal)).Where(i => i >= 0).DefaultIfEmpty(-1).Min();
        if (cut >= 0)
        {
            string before = _pending[..cut];
            _pending = "";
            return (before, true);
        }
        int hold = stops.Max(HeldBack);
        string safe = _pending[..^hold];
        _pending = _pending[^hold..];
        return (safe, false);
    }

    /// <summary>
    /// The stream's last piece (a decoder's flushed bytes): the text now safe to emit — held-back text included, unless
    /// a stop sequence turns up — and whether one did.
    /// </summary>
    public (string Text, bool Stopped) End(string lastPiece)
    {
        var (text, stopped) = Push(lastPiece);
        return stopped ? (text, true) : (text + Finish(), false);
    }

    /// <summary>Whatever was held back, once no more text will come.</summary>
    public string Finish()
    {
        string rest = _pending;
        _pending = "";
        return rest;
    }

    /// <summary>The longest end of the pending text that is a proper beginning of <paramref name="stop"/>.</summary>
    int HeldBack(string stop)
    {
        for (int n = Math.Min(stop.Length - 1, _pending.Length); n > 0; n--)
            if (_pending.AsSpan(_pending.Length - n).SequenceEqual(stop.AsSpan(0, n))) return n;
        return 0;
    }
}
