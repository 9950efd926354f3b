using GptSharp.Tokenization;
using GptSharp.Data.Dialogues;

namespace GptSharp.Tests.Data.Dialogues;

public class DialogueReaderTests : IDisposable
{
    readonly DialogueFiles _files = new();
    public void Dispose() => _files.Dispose();

    static ChatTurn U(string s) => new(TurnRole.User, s);
    static ChatTurn A(string s) => new(TurnRole.Assistant, s);
    static ChatTurn S(string s) => new(TurnRole.System, s);

    [Fact]
    public void JsonArrayOfPairsWithOptionalSystem()
    {
        string path = _files.Write("pairs.json", """
            [
              {"input": "Hi", "output": "Hello!"},
              {"system": "Be brief.", "input": "2+2?", "output": "4", "id": 7}
            ]
            """);
        var conversations = DialogueReader.Read(path);
        Assert.Equal(2, conversations.Count);
        Assert.Equal([U("Hi"), A("Hello!")], conversations[0].Messages);
        Assert.Equal([S("Be brief."), U("2+2?"), A("4")], conversations[1].Messages);
        Assert.Equal($"{path}:3", conversations[1].Source);
    }

    [Fact]
    public void JsonLinesOfPairsAndMessages()
    {
        string path = _files.Write("mixed.jsonl",
            "{\"input\": \"Hi\", \"output\": \"Hello!\"}\n\n" +
            "{\"messages\": [{\"role\": \"system\", \"content\": \"S\"}, {\"role\": \"user\", \"content\": \"a\"}, " +
            "{\"role\": \"assistant\", \"content\": \"b\"}, {\"role\": \"user\", \"content\": \"c\"}, {\"role\": \"assistant\", \"content\": \"d\"}]}\n");
        var conversations = DialogueReader.Read(path);
        Assert.Equal(2, conversations.Count);
        Assert.Equal([U("Hi"), A("Hello!")], conversations[0].Messages);
        Assert.Equal([S("S"), U("a"), A("b"), U("c"), A("d")], conversations[1].Messages);
        Assert.Equal($"{path}:3", conversations[1].Source);
    }

    [Fact]
    public void TranscriptSeparatedByBlankLines()
    {
        string path = _files.Write("chat.txt",
            "<user> Hi there\n<bot> Hello!\nHow can I help?\n<user> Nothing.\n<bot> OK.\n\n\n<system> Be kind.\n<user>Q\n<bot>A\n");
        var conversations = DialogueReader.Read(path);
        Assert.Equal(2, conversations.Count);
        Assert.Equal([U("Hi there"), A("Hello!\nHow can I help?"), U("Nothing."), A("OK.")], conversations[0].Messages);
        Assert.Equal([S("Be kind."), U("Q"), A("A")], conversations[1].Messages);
        Assert.Equal($"{path}:8", conversations[1].Source);
    }

    [Fact]
    public void TranscriptWithDashSeparatorsKeepsParagraphs()
    {
        string path = _files.Write("chat.txt", "<user> Write two paragraphs.\r\n<bot> One.\r\n\r\nTwo.\r\n---\r\n<user> Bye\r\n<bot> Bye!\r\n");
        var conversations = DialogueReader.Read(path);
        Assert.Equal(2, conversations.Count);
        Assert.Equal([U("Write two paragraphs."), A("One.\n\nTwo.")], conversations[0].Messages);
        Assert.Equal([U("Bye"), A("Bye!")], conversations[1].Messages);
    }

    [Theory]
    [InlineData("[{\"input\":1}]", DialogueFormat.JsonArray)]
    [InlineData("\uFEFF  {\"input\":1}", DialogueFormat.JsonLines)]
    [InlineData("<user> hi", DialogueFormat.Transcript)]
    [InlineData("hello", DialogueFormat.Transcript)]
    public void DetectsTheFormatFromContent(string text, DialogueFormat expected) => Assert.Equal(expected, DialogueReader.Detect(text));

    [Fact]
    public void GivenFormatOverridesDetection()
    {
        // A JSON array on one line is also valid JSON lines: one record per line must then be an object.
        string path = _files.Write("a.txt", "[{\"input\": \"a\", \"output\": \"b\"}]\n");
        Assert.Single(DialogueReader.Read(path, DialogueFormat.JsonArray));
        var e = Assert.Throws<GptSharpException>(() => DialogueReader.Read(path, DialogueFormat.JsonLines));
        Assert.StartsWith($"{path}:1: expected a JSON object", e.Message);
    }

    public static TheoryData<string, string, int, string> Malformed => new()
    {
        // file name, content, line the error names, words the message contains
        { "empty.jsonl", "", 1, "empty file" },
        { "blank.txt", "\n  \n\n", 1, "empty file" },
        { "empty-array.json", "[\n]\n", 1, "no conversations" },
        { "role.jsonl", "{\"input\":\"a\",\"output\":\"b\"}\n{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"bot\",\"content\":\"b\"}]}\n", 2, "unknown role \"bot\"" },
        { "noassistant.jsonl", "{\"messages\":[{\"role\":\"system\",\"content\":\"s\"},{\"role\":\"user\",\"content\":\"a\"}]}\n", 1, "no assistant turn" },
        { "noassistant.txt", "<user> a\n<bot> b\n\n<user> only a question\n", 4, "no assistant turn" },
        { "emptycontent.json", "[\n{\"input\":\"a\",\"output\":\"b\"},\n{\"input\":\"a\",\"output\":\"  \"}\n]", 3, "\"output\" has empty content" },
        { "emptyturn.txt", "<user> a\n<bot>\n<user> c\n<bot> d\n", 2, "<bot> turn has empty content" },
        { "missing.txt", "<user> a\n<user> b\n<bot> c\n", 1, "assistant turn missing after <user> turn" },
        { "missing-end.txt", "<user> a\n<bot> b\n<user> c\n", 3, "assistant turn missing after <user> turn" },
        { "missing.jsonl", "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"assistant\",\"content\":\"b\"},{\"role\":\"user\",\"content\":\"c\"}]}", 1, "assistant turn missing after message 3 (user)" },
        { "botfirst.txt", "<bot> hello\n<user> hi\n<bot> hi\n", 1, "has no user turn before it" },
        { "latesystem.jsonl", "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"system\",\"content\":\"s\"},{\"role\":\"assistant\",\"content\":\"b\"}]}", 1, "system message may only come first" },
        { "badjson.jsonl", "{\"input\":\"a\",\"output\":\"b\"}\n{\"input\":\"a\",\"output\":}\n", 2, "invalid JSON" },
        { "badjson.json", "[\n{\"input\":\"a\",\"output\":\"b\"},\n{\"input\":\"a\" \"output\":\"b\"}\n]", 3, "invalid JSON" },
        { "unclosed.json", "[\n{\"input\":\"a\",\"output\":\"b\"}\n", 3, "invalid JSON" }, // the end of the file
        { "trailing.json", "[{\"input\":\"a\",\"output\":\"b\"}]\nx\n", 2, "invalid JSON" },
        { "nostring.jsonl", "{\"input\":\"a\",\"output\":5}\n", 1, "\"output\" in the record must be a string" },
        { "nokeys.jsonl", "{\"question\":\"a\"}\n", 1, "neither \"messages\" nor \"input\"/\"output\"" },
        { "lacks.jsonl", "{\"input\":\"a\"}\n", 1, "lacks \"output\"" },
        { "outside.txt", "hello\n<user> a\n<bot> b\n", 1, "text outside a turn" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void MalformedInputNamesFileAndLine(string name, string content, int line, string words)
    {
        string path = _files.Write(name, content);
        var e = Assert.Throws<GptSharpException>(() => DialogueReader.Read(path));
        Assert.StartsWith($"{path}:{line}: ", e.Message);
        Assert.Contains(words, e.Message);
    }

    [Fact]
    public void InvalidUtf8NamesFileAndLine()
    {
        byte[] bytes = [.. "<user> a\n<bot> b\n<user> c\n<bot> "u8, 0xC3, 0x28, (byte)'\n'];
        string path = _files.WriteBytes("bad.txt", bytes);
        var e = Assert.Throws<GptSharpException>(() => DialogueReader.Read(path));
        Assert.StartsWith($"{path}:4: invalid UTF-8", e.Message);
    }

    [Fact]
    public void MissingFileIsAUserError()
    {
        var e = Assert.Throws<GptSharpException>(() => DialogueReader.Read("/nonexistent/dialogue.jsonl"));
        Assert.Contains("file not found", e.Message);
    }
}
