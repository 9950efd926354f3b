using System.Text.Json.Nodes;

namespace GptSharp.Tests.Tokenization;

/// <summary>The 221 tiktoken reference cases in Fixtures/gpt2-tokenizer/cases.jsonl.</summary>
static class Gpt2Cases
{
    public sealed record Case(int Line, string Text, int[] Ids, int[]? IdsAllowedSpecial, string Category);

    public static readonly Lazy<IReadOnlyList<Case>> All = new(() =>
        [.. File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "Fixtures", "gpt2-tokenizer", "cases.jsonl"))
            .Select((line, i) => (node: JsonNode.Parse(line)!, line: i + 1))
            .Select(x => new Case(x.line, (string)x.node["text"]!, Ids(x.node["ids"])!, Ids(x.node["ids_allowed_special_all"]), (string)x.node["category"]!))]);

    static int[]? Ids(JsonNode? node) => node?.AsArray().Select(v => (int)v!).ToArray();

    /// <summary>All fixture texts joined: a small multilingual corpus for trainer tests.</summary>
    public static IEnumerable<string> Texts => All.Value.Select(c => c.Text);
}
