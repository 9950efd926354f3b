using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using GptSharp.IO;

namespace GptSharp.Cli.Commands;

/// <summary>Line-by-line JSONL rewriting that never leaves a half-written output: any bad line aborts before the rename.</summary>
static class JsonlFile
{
    // Keep non-ASCII text readable in the output (System.Text.Json escapes it by default).
    static readonly JsonSerializerOptions JsonOut = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// Calls <paramref name="edit"/> on each non-blank line's object (with "FILE:LINE" for messages) and writes the edited
    /// objects, other fields kept in order. Returns the number of lines written.
    /// </summary>
    public static int Transform(string input, string output, Action<JsonObject, string> edit)
    {
        if (!File.Exists(input)) throw new GptSharpException($"{input}: file not found");
        int count = 0;
        var utf8 = new UTF8Encoding(false, throwOnInvalidBytes: true);
        AtomicFile.Write(output, f =>
        {
            using var reader = new StreamReader(input, utf8);
            using var writer = new StreamWriter(f, new UTF8Encoding(false), leaveOpen: true) { NewLine = "\n" };
            int lineNo = 0;
            while (true)
            {
                string? line;
                try { line = reader.ReadLine(); }
                catch (DecoderFallbackException) { throw new GptSharpException($"{input}:{lineNo + 1}: not valid UTF-8"); }
                if (line is null) break;
                lineNo++;
                if (string.IsNullOrWhiteSpace(line)) continue;
                string where = $"{input}:{lineNo}";
                JsonObject obj;
                try { obj = JsonNode.Parse(line) as JsonObject ?? throw new GptSharpException($"{where}: expected a JSON object"); }
                catch (JsonException e) { throw new GptSharpException($"{where}: not valid JSON ({e.Message})"); }
                edit(obj, where);
                writer.WriteLine(obj.ToJsonString(JsonOut));
                count++;
            }
        });
        return count;
    }
}
