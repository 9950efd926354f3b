using System.Buffers;
using System.Text.Unicode;
using System.Text;

namespace GptSharp.IO;

/// <summary>
/// Strict UTF-8 reading: invalid bytes are an error that names the file, the line and the byte within it, never a
/// silent U+FFFD that would end up in a tokenizer, a dataset or an evaluation.
/// </summary>
public static class Utf8Text
{
    /// <summary>Throws on invalid bytes instead of replacing them.</summary>
    public static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Decodes <paramref name="bytes"/>; <paramref name="name"/> (a path) and <paramref name="firstLine"/> place errors.</summary>
    public static string Decode(ReadOnlySpan<byte> bytes, string name, long firstLine = 1)
    {
        var chars = new char[bytes.Length];
        var status = Utf8.ToUtf16(bytes, chars, out int read, out int written, replaceInvalidSequences: false);
        if (status != OperationStatus.Done)
        {
            long line = firstLine + bytes[..read].Count((byte)'\n');
            int lineStart = bytes[..read].LastIndexOf((byte)'\n') + 1;
            throw new GptSharpException($"{name}:{line}: invalid UTF-8 (at byte {read - lineStart} of the line); the input must be UTF-8 text");
        }
        return new string(chars, 0, written);
    }

    /// <summary>The whole file as text, with a leading byte-order mark dropped; a missing or unreadable file is a clear error.</summary>
    public static string ReadFile(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { throw new GptSharpException($"{path}: file not found"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new GptSharpException($"{path}: cannot read ({e.Message})"); }
        int start = bytes.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0;
        return Decode(bytes.AsSpan(start), path);
    }
}
