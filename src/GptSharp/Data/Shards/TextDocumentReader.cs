using GptSharp.IO;
using System.Text;
using GptSharp.Tokenization;

namespace GptSharp.Data.Shards;

/// <summary>A run of document text; <see cref="EndsDocument"/> marks the document's last piece.</summary>
internal readonly record struct TextPiece(string Text, bool EndsDocument);

/// <summary>
/// Streams a UTF-8 text file as documents cut into pieces of about <see cref="TargetPieceChars"/> characters, so files of
/// any size are tokenized in bounded memory. Pieces end right after a line whose last character is not whitespace:
/// GPT-2-style pre-tokenizers never merge across such a point, so the pieces tokenize exactly like the whole document.
/// </summary>
internal static class TextDocumentReader
{
    public const int TargetPieceChars = 1 << 16;
    /// <summary>A longer line is cut (before a space where possible) so one huge line cannot exhaust memory.</summary>
    public const int MaxLineBytes = 1 << 20;

    /// <summary>The file's non-empty documents, in order. <paramref name="bytesRead"/> is told each block's size as it is read.</summary>
    public static IEnumerable<TextPiece> Read(string path, DocumentBoundary boundary, Action<long>? bytesRead = null, CancellationToken ct = default)
    {
        var doc = new StringBuilder();
        bool hasContent = false; // the document has a non-blank line (leading blank lines are dropped)

        foreach (var (line, complete) in ReadLines(path, bytesRead, ct))
        {
            bool blank = string.IsNullOrWhiteSpace(line);
            bool endsDocument = boundary switch
            {
                DocumentBoundary.Marker => complete && line.Trim() == SpecialTokens.EndOfText,
                DocumentBoundary.BlankLine => complete && blank,
                _ => false,
            };
            if (endsDocument)
            {
                if (hasContent) yield return new TextPiece(doc.ToString(), true);
                doc.Clear();
                hasContent = false;
                continue;
            }
            if (blank && !hasContent) continue;

            if (boundary == DocumentBoundary.Line)
            {
                doc.Append(complete ? line.AsSpan(0, line.Length - 1) : line);
                if (complete)
                {
                    yield return new TextPiece(doc.ToString(), true);
                    doc.Clear();
                    hasContent = false;
                }
                else hasContent = true;
                continue;
            }

            doc.Append(line);
            hasContent = true;
            if (doc.Length >= TargetPieceChars && complete && line.Length >= 2 && !char.IsWhiteSpace(line[^2]))
            {
                yield return new TextPiece(doc.ToString(), false);
                doc.Clear();
            }
        }
        if (hasContent) yield return new TextPiece(doc.ToString(), true);
    }

    /// <summary>Lines with their "\n" (CRLF becomes LF); complete is false for a final line without newline or a cut long line.</summary>
    static IEnumerable<(string Text, bool Complete)> ReadLines(string path, Action<long>? bytesRead, CancellationToken ct)
    {
        FileStream stream;
        try { stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { throw new GptSharpException($"{path}: file not found"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new GptSharpException($"{path}: cannot read ({e.Message})"); }

        using var _ = stream;
        var block = new byte[1 << 16];
        var line = new byte[4096];
        int lineLength = 0;
        long lineNumber = 1;
        int read;
        while ((read = stream.Read(block)) > 0)
        {
            ct.ThrowIfCancellationRequested();
            bytesRead?.Invoke(read);
            int start = 0;
            while (start < read)
            {
                int newline = Array.IndexOf(block, (byte)'\n', start, read - start);
                int end = newline < 0 ? read : newline + 1;
                int count = end - start;
                if (lineLength + count > line.Length) Array.Resize(ref line, Math.Max(line.Length * 2, lineLength + count));
                Buffer.BlockCopy(block, start, line, lineLength, count);
                lineLength += count;
                start = end;

                if (newline >= 0)
                {
                    yield return (Decode(path, lineNumber, line, lineLength, complete: true), true);
                    lineLength = 0;
                    lineNumber++;
                }
                else if (lineLength > MaxLineBytes)
                {
                    int cut = CutPoint(line, lineLength);
                    yield return (Decode(path, lineNumber, line, cut, complete: false), false);
                    Buffer.BlockCopy(line, cut, line, 0, lineLength - cut);
                    lineLength -= cut;
                }
            }
        }
        if (lineLength > 0) yield return (Decode(path, lineNumber, line, lineLength, complete: false), false);
    }

    /// <summary>Before the last space in the second half of a long line, else at the last UTF-8 character boundary.</summary>
    static int CutPoint(byte[] line, int length)
    {
        int space = Array.LastIndexOf(line, (byte)' ', length - 1, length / 2);
        if (space > 0) return space;
        int cut = length;
        while (cut > 0 && (line[cut - 1] & 0xC0) == 0x80) cut--; // back over continuation bytes
        if (cut > 0 && line[cut - 1] >= 0xC0) cut--;            // and over the lead byte of an unfinished character
        return cut == 0 ? length : cut;
    }

    static string Decode(string path, long lineNumber, byte[] bytes, int length, bool complete)
    {
        string text;
        try { text = Utf8Text.Strict.GetString(bytes, 0, length); }
        catch (DecoderFallbackException e)
        {
            throw new GptSharpException($"{path}:{lineNumber}: invalid UTF-8 (at byte {e.Index} of the line); the input must be UTF-8 text");
        }
        if (lineNumber == 1 && text.StartsWith('\uFEFF')) text = text[1..];
        if (complete && text.EndsWith("\r\n", StringComparison.Ordinal)) text = string.Concat(text.AsSpan(0, text.Length - 2), "\n");
        return text;
    }
}
