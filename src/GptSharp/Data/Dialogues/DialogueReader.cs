using GptSharp.IO;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using GptSharp.Tokenization;

namespace GptSharp.Data.Dialogues;

/// <summary>
/// Reads dialogue files into <see cref="Conversation"/>s, with "FILE:LINE: …" errors for anything malformed.
/// <list type="bullet">
/// <item>JSON array or JSON lines of records. A record is a pair <c>{"input": "…", "output": "…", "system": "…"?}</c>
/// (one user turn and one assistant turn) or <c>{"messages": [{"role": "system|user|assistant", "content": "…"}, …]}</c>.
/// Other keys are ignored.</item>
/// <item>Transcripts: a line starting with <c>&lt;user&gt;</c>, <c>&lt;bot&gt;</c> (the assistant) or <c>&lt;system&gt;</c>
/// begins a turn; the rest of that line and the following lines are its content (trimmed). A <c>&lt;user&gt;</c> after a
/// <c>&lt;bot&gt;</c> turn continues the same conversation. Conversations are separated by <c>---</c> lines if the file has
/// any; then blank lines are paragraph breaks inside a turn. Otherwise a blank line ends the conversation.</item>
/// </list>
/// Every conversation must be: an optional system message first, then user and assistant turns alternating, starting
/// with user and ending with assistant, none empty. Files are read whole (dialogue sets are small next to pretraining text).
/// </summary>
public static class DialogueReader
{
    public const string UserMarker = "<user>", BotMarker = "<bot>", SystemMarker = "<system>";

    /// <summary>The conversations in <paramref name="path"/>, in file order.</summary>
    public static IReadOnlyList<Conversation> Read(string path, DialogueFormat format = DialogueFormat.Auto)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { throw new GptSharpException($"{path}: file not found"); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new GptSharpException($"{path}: cannot read ({e.Message})"); }
        return Parse(bytes, path, format);
    }

    /// <summary>
    /// Checks conversations made in code by the rules a file's must follow. Errors read <c>NAME:N: message M (role) …</c>,
    /// N counting conversations from 1; a conversation without a <see cref="Conversation.Source"/> gets <c>NAME:N</c>.
    /// </summary>
    public static IReadOnlyList<Conversation> Check(IEnumerable<Conversation> conversations, string name)
    {
        var result = new List<Conversation>();
        int n = 0;
        foreach (var conversation in conversations)
        {
            n++;
            var turns = conversation.Messages.Select((m, i) => new Turn(m.Role, m.Content, n, $"message {i + 1} ({ChatTurn.RoleName(m.Role)})")).ToList();
            var valid = Validate(turns, name, n);
            result.Add(conversation.Source.Length > 0 ? conversation : valid);
        }
        return result;
    }

    /// <summary>Parses the bytes of a dialogue file; <paramref name="name"/> is used in error messages.</summary>
    public static IReadOnlyList<Conversation> Parse(byte[] bytes, string name, DialogueFormat format = DialogueFormat.Auto)
    {
        int start = bytes.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0;
        var data = bytes.AsMemory(start);
        string text = Utf8Text.Decode(data.Span, name);
        if (string.IsNullOrWhiteSpace(text))
            throw new GptSharpException($"{name}:1: empty file; expected a JSON array, JSON lines or a <user>/<bot> transcript");
        if (format == DialogueFormat.Auto) format = Detect(text);

        var conversations = format switch
        {
            DialogueFormat.JsonArray => ParseJsonArray(data, name),
            DialogueFormat.JsonLines => ParseJsonLines(text, name),
            DialogueFormat.Transcript => ParseTranscript(text, name),
            _ => throw new ArgumentOutOfRangeException(nameof(format)),
        };
        if (conversations.Count == 0) throw new GptSharpException($"{name}:1: no conversations found");
        return conversations;
    }

    /// <summary>From the first non-blank character: '[' JSON array, '{' JSON lines, anything else a transcript.</summary>
    public static DialogueFormat Detect(string text)
    {
        foreach (char c in text)
        {
            if (char.IsWhiteSpace(c) || c == '\uFEFF') continue;
            return c switch { '[' => DialogueFormat.JsonArray, '{' => DialogueFormat.JsonLines, _ => DialogueFormat.Transcript };
        }
        return DialogueFormat.Transcript;
    }

    // ---- JSON ----

    static readonly JsonDocumentOptions JsonOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    static List<Conversation> ParseJsonArray(ReadOnlyMemory<byte> data, string name)
    {
        var result = new List<Conversation>();
        var lines = new LineCounter(data);
        var reader = new Utf8JsonReader(data.Span, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartArray)
                throw new GptSharpException($"{name}:{lines.LineOf(reader.TokenStartIndex)}: expected a JSON array of records");
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                int line = lines.LineOf(reader.TokenStartIndex);
                var element = JsonElement.ParseValue(ref reader);
                result.Add(ParseRecord(element, name, line));
            }
            if (reader.TokenType != JsonTokenType.EndArray)
                throw new GptSharpException($"{name}:{lines.LineOf(data.Length)}: invalid JSON (the array is not closed)");
            reader.Read(); // throws on anything but whitespace and comments after the array
        }
        catch (JsonException e)
        {
            throw new GptSharpException($"{name}:{(e.LineNumber ?? 0) + 1}: invalid JSON ({ShortJsonMessage(e)})");
        }
        return result;
    }

    static List<Conversation> ParseJsonLines(string text, string name)
    {
        var result = new List<Conversation>();
        int lineNumber = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(rawLine)) continue;
            JsonDocument doc;
            try { doc = JsonDocument.Parse(rawLine, JsonOptions); }
            catch (JsonException e)
            {
                throw new GptSharpException($"{name}:{lineNumber}: invalid JSON ({ShortJsonMessage(e)}); JSON lines need one record per line");
            }
            using (doc) result.Add(ParseRecord(doc.RootElement, name, lineNumber));
        }
        return result;
    }

    static string ShortJsonMessage(JsonException e)
    {
        string m = e.Message;
        int cut = m.IndexOf(" LineNumber:", StringComparison.Ordinal);
        if (cut < 0) cut = m.IndexOf(" Path:", StringComparison.Ordinal);
        return (cut >= 0 ? m[..cut] : m).TrimEnd(' ', '.', '|');
    }

    static Conversation ParseRecord(JsonElement record, string name, int line)
    {
        if (record.ValueKind != JsonValueKind.Object)
            throw new GptSharpException($"{name}:{line}: expected a JSON object with \"messages\" or \"input\"/\"output\", found {JsonKinds.Describe(record)}");

        var turns = new List<Turn>();
        if (record.TryGetProperty("messages", out var messages))
        {
            if (messages.ValueKind != JsonValueKind.Array)
                throw new GptSharpException($"{name}:{line}: \"messages\" must be an array, found {JsonKinds.Describe(messages)}");
            int index = 0;
            foreach (var message in messages.EnumerateArray())
            {
                index++;
                string label = $"message {index}";
                if (message.ValueKind != JsonValueKind.Object)
                    throw new GptSharpException($"{name}:{line}: {label} must be an object with \"role\" and \"content\", found {JsonKinds.Describe(message)}");
                string role = RequiredString(message, "role", name, line, label);
                var parsed = ChatTurn.ParseRole(role)
                    ?? throw new GptSharpException($"{name}:{line}: {label} has unknown role \"{role}\"; expected system, user or assistant");
                turns.Add(new Turn(parsed, RequiredString(message, "content", name, line, label), line, $"{label} ({role})"));
            }
        }
        else if (record.TryGetProperty("input", out _) || record.TryGetProperty("output", out _))
        {
            if (record.TryGetProperty("system", out var system) && system.ValueKind != JsonValueKind.Null)
                turns.Add(new Turn(TurnRole.System, RequiredString(record, "system", name, line, "the record"), line, "\"system\""));
            turns.Add(new Turn(TurnRole.User, RequiredString(record, "input", name, line, "the record"), line, "\"input\""));
            turns.Add(new Turn(TurnRole.Assistant, RequiredString(record, "output", name, line, "the record"), line, "\"output\""));
        }
        else throw new GptSharpException($"{name}:{line}: the record has neither \"messages\" nor \"input\"/\"output\"");

        return Validate(turns, name, line);
    }

    static string RequiredString(JsonElement obj, string key, string name, int line, string what)
    {
        if (!obj.TryGetProperty(key, out var value))
            throw new GptSharpException($"{name}:{line}: {what} lacks \"{key}\"");
        if (value.ValueKind != JsonValueKind.String)
            throw new GptSharpException($"{name}:{line}: \"{key}\" in {what} must be a string, found {JsonKinds.Describe(value)}");
        return value.GetString()!;
    }


    /// <summary>Line numbers of byte offsets given in increasing order, counted incrementally.</summary>
    sealed class LineCounter(ReadOnlyMemory<byte> data)
    {
        long _offset;
        int _line = 1;

        public int LineOf(long offset)
        {
            offset = Math.Min(offset, data.Length);
            if (offset < _offset) { _offset = 0; _line = 1; }
            _line += data.Span[(int)_offset..(int)offset].Count((byte)'\n');
            _offset = offset;
            return _line;
        }
    }

    // ---- transcripts ----

    static List<Conversation> ParseTranscript(string text, string name)
    {
        var result = new List<Conversation>();
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++) lines[i] = lines[i].TrimEnd('\r');
        bool dashSeparated = lines.Any(l => l.Trim() == "---");

        var turns = new List<Turn>();
        TurnRole role = TurnRole.User;
        string marker = "";
        int turnLine = 0, conversationLine = 0;
        StringBuilder? content = null;

        void EndTurn()
        {
            if (content is null) return;
            turns.Add(new Turn(role, content.ToString().Trim(), turnLine, $"{marker} turn"));
            content = null;
        }
        void EndConversation()
        {
            EndTurn();
            if (turns.Count > 0) result.Add(Validate(turns, name, conversationLine));
            turns = [];
        }

        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i];
            int lineNumber = i + 1;
            if (line.Trim() == "---") { EndConversation(); continue; }
            if (string.IsNullOrWhiteSpace(line))
            {
                if (!dashSeparated) EndConversation();
                else content?.Append('\n');
                continue;
            }
            var started = MarkerOf(line);
            if (started is var (newRole, newMarker))
            {
                EndTurn();
                if (turns.Count == 0) conversationLine = lineNumber;
                role = newRole;
                marker = newMarker;
                turnLine = lineNumber;
                content = new StringBuilder(line[newMarker.Length..]);
                continue;
            }
            if (content is null)
                throw new GptSharpException($"{name}:{lineNumber}: text outside a turn; a turn begins with a line starting with {UserMarker} or {BotMarker}");
            content.Append('\n').Append(line);
        }
        EndConversation();
        return result;
    }

    static (TurnRole, string)? MarkerOf(string line) =>
        line.StartsWith(UserMarker, StringComparison.Ordinal) ? (TurnRole.User, UserMarker)
        : line.StartsWith(BotMarker, StringComparison.Ordinal) ? (TurnRole.Assistant, BotMarker)
        : line.StartsWith(SystemMarker, StringComparison.Ordinal) ? (TurnRole.System, SystemMarker)
        : null;

    // ---- structure ----

    readonly record struct Turn(TurnRole Role, string Content, int Line, string Label);

    /// <summary>Checks the turn order and contents; <paramref name="line"/> is where the conversation starts.</summary>
    static Conversation Validate(List<Turn> turns, string name, int line)
    {
        if (turns.Count == 0) throw new GptSharpException($"{name}:{line}: the conversation has no turns");
        if (!turns.Any(t => t.Role == TurnRole.Assistant))
            throw new GptSharpException($"{name}:{line}: the conversation has no assistant turn; fine-tuning needs at least one reply to learn from");

        int first = turns[0].Role == TurnRole.System ? 1 : 0;
        for (int i = 0; i < turns.Count; i++)
        {
            var t = turns[i];
            if (string.IsNullOrWhiteSpace(t.Content))
                throw new GptSharpException($"{name}:{t.Line}: {t.Label} has empty content");
            if (t.Role == TurnRole.System && i > 0)
                throw new GptSharpException($"{name}:{t.Line}: {t.Label}: a system message may only come first");
            if (i < first) continue;
            var expected = (i - first) % 2 == 0 ? TurnRole.User : TurnRole.Assistant;
            if (t.Role == expected) continue;
            if (t.Role == TurnRole.User)
                throw new GptSharpException($"{name}:{turns[i - 1].Line}: assistant turn missing after {turns[i - 1].Label}");
            throw new GptSharpException($"{name}:{t.Line}: {t.Label} has no user turn before it");
        }
        var last = turns[^1];
        if (last.Role != TurnRole.Assistant)
            throw new GptSharpException($"{name}:{last.Line}: assistant turn missing after {last.Label}");

        return new Conversation([.. turns.Select(t => new ChatTurn(t.Role, t.Content))], $"{name}:{line}");
    }
}
