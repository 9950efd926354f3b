using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Unicode;

namespace GptSharp.Tokenization;

/// <summary>
/// Counts GPT-2 pre-tokens ("words") in a corpus, streaming it in blocks. Special-token strings in the text (such as
/// &lt;|endoftext|&gt; between documents) are separators, not words.
/// </summary>
sealed class WordCounter
{
    readonly Dictionary<string, long> counts = new(StringComparer.Ordinal);
    readonly Dictionary<string, long>.AlternateLookup<ReadOnlySpan<char>> lookup;

    public WordCounter() => lookup = counts.GetAlternateLookup<ReadOnlySpan<char>>();

    public IReadOnlyDictionary<string, long> Counts => counts;

    public void AddText(ReadOnlySpan<char> text)
    {
        while (!text.IsEmpty)
        {
            int cut = NextSpecialToken(text, out int length);
            AddWords(text[..cut]);
            text = text[Math.Min(text.Length, cut + length)..];
        }
    }

    static int NextSpecialToken(ReadOnlySpan<char> text, out int length)
    {
        int offset = 0;
        while (true)
        {
            int i = text[offset..].IndexOf("<|", StringComparison.Ordinal);
            if (i < 0) { length = 0; return text.Length; }
            i += offset;
            foreach (string special in SpecialTokens.All)
                if (text[i..].StartsWith(special, StringComparison.Ordinal)) { length = special.Length; return i; }
            offset = i + 2;
        }
    }

    void AddWords(ReadOnlySpan<char> text)
    {
        foreach (var m in ByteLevel.PreTokenizer().EnumerateMatches(text))
            CollectionsMarshal.GetValueRefOrAddDefault(lookup, text.Slice(m.Index, m.Length), out _)++;
    }

    /// <summary>
    /// Reads a UTF-8 file block by block. Blocks are cut only where a non-space character meets a space character: no
    /// pre-token spans such a point, so the words are the same as if the file were read whole.
    /// </summary>
    public void AddFile(string path, Action<long> bytesRead, CancellationToken ct)
    {
        const int BlockBytes = 1 << 20;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        byte[] bytes = new byte[BlockBytes];
        char[] chars = new char[2 * BlockBytes];
        int pendingBytes = 0, pendingChars = 0;
        long line = 1, offset = 0;
        bool first = true;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            int n = stream.Read(bytes, pendingBytes, bytes.Length - pendingBytes);
            bool final = n == 0;
            int available = pendingBytes + n;
            var input = bytes.AsSpan(0, available);
            int skipped = 0;
            if (first && input.StartsWith("\uFEFF"u8)) { skipped = 3; input = input[3..]; }
            first = false;

            if (chars.Length < pendingChars + input.Length) Array.Resize(ref chars, Math.Max(2 * chars.Length, pendingChars + input.Length));
            var status = Utf8.ToUtf16(input, chars.AsSpan(pendingChars), out int read, out int written, replaceInvalidSequences: false, isFinalBlock: final);
            line += input[..read].Count((byte)'\n');
            if (status == OperationStatus.InvalidData)
                throw new GptSharpException($"{path}: invalid UTF-8 at line {line} (byte offset {offset + skipped + read}); training input must be UTF-8 text");
            offset += skipped + read;
            pendingChars += written;
            pendingBytes = input.Length - read;
            input[read..].CopyTo(bytes);
            bytesRead(skipped + read);

            if (final)
            {
                AddText(chars.AsSpan(0, pendingChars));
                return;
            }
            int cut = SafeCut(chars.AsSpan(0, pendingChars));
            // A block with no cut point (one enormous word or space run) is counted as it is once it grows large.
            if (cut == 0 && pendingChars > 16 * BlockBytes) cut = char.IsHighSurrogate(chars[pendingChars - 1]) ? pendingChars - 1 : pendingChars;
            if (cut > 0)
            {
                AddText(chars.AsSpan(0, cut));
                chars.AsSpan(cut, pendingChars - cut).CopyTo(chars);
                pendingChars -= cut;
            }
        }
    }

    /// <summary>The last index where a non-space character is followed by a space character, or 0.</summary>
    static int SafeCut(ReadOnlySpan<char> text)
    {
        for (int i = text.Length - 1; i > 0; i--)
            if (char.IsWhiteSpace(text[i]) && !char.IsWhiteSpace(text[i - 1])) return i;
        return 0;
    }
}
