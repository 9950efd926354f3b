using System.Text;

namespace GptSharp.Chat.Safety;

/// <summary>
/// Filters one streamed reply. <see cref="Push"/> takes each decoded piece and returns the text that is safe to show
/// now; it holds back the last <see cref="ContentFilter.HoldBack"/> characters (of the filter's normal form), because a
/// banned phrase may arrive split over several tokens. <see cref="Finish"/> releases the rest. On a match, "stop" ends the reply just before
/// the phrase (<see cref="Stopped"/> turns true and later pieces are ignored) and "mask" shows <c>***</c> instead of
/// the words it spans. The returned pieces are only reply text: a caller that reports <see cref="Blocked"/> phrases
/// should do so after the reply, not between its pieces.
/// </summary>
public sealed class ContentFilterStream
{
    public const string Mask = "***";

    readonly ContentFilter filter;
    readonly StringBuilder pending = new();
    readonly List<ContentFilterBlock> blocks = [];
    char? lastShown;

    internal ContentFilterStream(ContentFilter filter) => this.filter = filter;

    /// <summary>True once a match ended the reply ("stop" mode).</summary>
    public bool Stopped { get; private set; }

    /// <summary>Every phrase blocked so far, in order.</summary>
    public IReadOnlyList<ContentFilterBlock> Blocks => blocks;

    /// <summary>Raised for each blocked phrase as it is found.</summary>
    public event Action<ContentFilterBlock>? Blocked;

    /// <summary>Adds a piece of the reply; returns the text that can be shown now (possibly empty).</summary>
    public string Push(string piece)
    {
        if (Stopped) return "";
        pending.Append(piece);
        return Release(final: false);
    }

    /// <summary>The reply is complete: returns whatever was held back (filtered).</summary>
    public string Finish() => Stopped ? "" : Release(final: true);

    string Release(bool final)
    {
        var shown = new StringBuilder();
        string text = pending.ToString();
        while (filter.FindFirst(text, lastShown, textIsComplete: final) is { } m)
        {
            var block = new ContentFilterBlock(m.Category, text.Substring(m.Index, m.Length), ContentFilterSide.Output);
            blocks.Add(block);
            Blocked?.Invoke(block);
            Show(shown, text[..m.Index]);
            if (filter.OutputAction == ContentFilterAction.Stop)
            {
                Stopped = true;
                pending.Clear();
                return shown.ToString();
            }
            Show(shown, Mask);
            lastShown = text[m.End - 1]; // the masked phrase is still what borders the next word
            text = text[m.End..];
        }
        // Everything before the last HoldBack characters (of the normal form: extra spaces do not push a phrase's start
        // out) can no longer be part of a match.
        int ready = text.Length;
        if (!final)
        {
            var normal = FilterText.Of(text);
            int keep = normal.Text.Length - filter.HoldBack;
            ready = keep <= 0 ? 0 : normal.OriginalStart(keep);
        }
        Show(shown, text[..ready]);
        pending.Clear().Append(text, ready, text.Length - ready);
        return shown.ToString();
    }

    void Show(StringBuilder shown, string text)
    {
        if (text.Length == 0) return;
        shown.Append(text);
        if (!ReferenceEquals(text, Mask)) lastShown = text[^1];
    }
}
