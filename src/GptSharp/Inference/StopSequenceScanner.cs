using GptSharp.Tokenization;

namespace GptSharp.Inference;

/// <summary>
/// Watches generated tokens, one at a time, for stop sequences, without decoding the whole output again at every
/// step: only the tokens whose text may still change are decoded, and only the text where a new match could start
/// is searched, so a step costs about the longest stop sequence plus a token or two, whatever the output's length.
/// <para>Text is "settled" up to the last token after which the decoded text ends cleanly; the tokens after it are
/// "pending" while they end inside a UTF-8 character (their text then ends in U+FFFD), as when a Chinese character
/// spans two byte-level tokens. Settled text never changes when tokens are added (UTF-8 resynchronises at a
/// character boundary), so it needs searching only once, plus the last (longest stop - 1) characters, where a
/// match can begin that new text completes.</para>
/// <para>Small and copyable (<see cref="Clone"/>), so beam search keeps one per beam.</para>
/// </summary>
sealed class StopSequenceScanner
{
    readonly ITokenizer tokenizer;
    readonly IReadOnlyList<string> stops;
    readonly int overlap; // the longest stop sequence's length - 1: how far back a match can begin in settled text
    string settledTail = ""; // the last `overlap` characters of the settled text
    int settledLength;       // characters of settled text
    List<int> pending = [];

    public StopSequenceScanner(ITokenizer tokenizer, IReadOnlyList<string> stops)
    {
        this.tokenizer = tokenizer;
        this.stops = stops;
        overlap = stops.Count == 0 ? 0 : stops.Max(s => s.Length) - 1;
    }

    StopSequenceScanner(StopSequenceScanner from)
    {
        (tokenizer, stops, overlap) = (from.tokenizer, from.stops, from.overlap);
        (settledTail, settledLength, pending, Cut) = (from.settledTail, from.settledLength, [.. from.pending], from.Cut);
    }

    /// <summary>Where the earliest stop sequence starts in the decoded output (a character index), or -1 while none has appeared.</summary>
    public int Cut { get; private set; } = -1;

    /// <summary>Adds the next generated token; true when the output now contains a stop sequence (<see cref="Cut"/> says where).</summary>
    public bool Push(int id)
    {
        if (Cut >= 0) return true;
        pending.Add(id);
        string fresh = tokenizer.DecodeText(pending);
        string window = settledTail + fresh;
        int at = StopSequenceMatch.Find(window, stops);
        if (at >= 0)
        {
            Cut = settledLength - settledTail.Length + at;
            return true;
        }
        if (!fresh.EndsWith('\uFFFD'))
        {
            settledLength += fresh.Length;
            settledTail = window[Math.Max(0, window.Length - overlap)..];
            pending.Clear();
        }
        return false;
    }

    /// <summary>An independent copy (a beam that branches off this one).</summary>
    public StopSequenceScanner Clone() => new(this);
}
