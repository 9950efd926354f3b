using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace GptSharp.Tests.Samples;

/// <summary>The bundled dialogues (samples/dialogues, made by samples/make_dialogues.py) have the promised shape.</summary>
public class SampleDialoguesTests
{
    static readonly string Dir = Path.Combine(AppContext.BaseDirectory, "samples", "dialogues");

    static List<JsonObject> ReadJsonl(string name) =>
        File.ReadLines(Path.Combine(Dir, name)).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();

    [Fact]
    public void TestSetIsHeldOutButAnswersCopyTheQuestionsSlots()
    {
        var train = ReadJsonl("train.jsonl");
        var test = ReadJsonl("test.jsonl");
        Assert.Equal(3000, train.Count);
        Assert.Equal(100, test.Count);
        Assert.Contains(train, r => r.ContainsKey("system"));
        Assert.Contains(test, r => Regex.IsMatch(r["input"]!.GetValue<string>(), @"\p{IsCJKUnifiedIdeographs}"));
        var seen = train.Select(r => r["input"]!.GetValue<string>()).ToHashSet();
        foreach (var r in test)
        {
            string input = r["input"]!.GetValue<string>(), output = r["output"]!.GetValue<string>();
            Assert.DoesNotContain(input, seen);
            // Order numbers in the answer come from the question.
            foreach (Match m in Regex.Matches(output, @"\d{5}")) Assert.Contains(m.Value, input);
        }
        long bytes = Directory.GetFiles(Dir).Sum(f => new FileInfo(f).Length);
        Assert.True(bytes < 2_000_000, $"{bytes} bytes");
    }

    [Fact]
    public void MultiTurnAndTranscriptAlternateSpeakers()
    {
        var convs = ReadJsonl("multiturn.jsonl");
        Assert.Equal(200, convs.Count);
        foreach (var c in convs)
        {
            var roles = c["messages"]!.AsArray().Select(m => m!["role"]!.GetValue<string>()).Where(r => r != "system").ToList();
            Assert.InRange(roles.Count, 4, 6);
            for (int i = 0; i < roles.Count; i++) Assert.Equal(i % 2 == 0 ? "user" : "assistant", roles[i]);
        }
        string[] blocks = File.ReadAllText(Path.Combine(Dir, "transcript.txt")).Trim().Split("\n\n");
        Assert.Equal(50, blocks.Length);
        Assert.All(blocks, b => Assert.All(b.Split('\n'), (line, i) => Assert.StartsWith(i % 2 == 0 ? "<user> " : "<bot> ", line)));
    }
}
