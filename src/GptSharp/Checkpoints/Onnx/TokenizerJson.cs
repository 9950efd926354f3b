using System.Text.Json;
using System.Text.Json.Nodes;
using GptSharp.IO;
using GptSharp.Inference.Onnx;
using GptSharp.Tokenization;

namespace GptSharp.Checkpoints.Onnx;

/// <summary>
/// tokenizer.json, Hugging Face tokenizers' one-file form of a byte-level BPE (GPT-2's pre-tokenizer and decoder), made
/// from the vocab.json already written beside it and the tokenizer's merges: ONNX Runtime GenAI reads only this form.
/// </summary>
static class TokenizerJson
{
    public const string FileName = "tokenizer.json";

    public static void Write(string dir, BpeTokenizer tokenizer)
    {
        var vocab = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "vocab.json"))) as JsonObject
                    ?? throw new GptSharpException($"{dir}: vocab.json is not a JSON object");
        var added = new JsonArray();
        foreach (var name in tokenizer.SpecialTokenNames)
            if (tokenizer.TokenToId(name) is int id)
                added.Add(new JsonObject
                {
                    ["id"] = id, ["content"] = name, ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                    ["normalized"] = false, ["special"] = true,
                });
        JsonObject ByteLevel(bool addPrefixSpace, bool trimOffsets) =>
            new() { ["type"] = "ByteLevel", ["add_prefix_space"] = addPrefixSpace, ["trim_offsets"] = trimOffsets, ["use_regex"] = true };
        var json = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = null,
            ["pre_tokenizer"] = ByteLevel(false, true),
            ["post_processor"] = ByteLevel(true, false),
            ["decoder"] = ByteLevel(true, true),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["dropout"] = null,
                ["unk_token"] = null,
                ["continuing_subword_prefix"] = "",
                ["end_of_word_suffix"] = "",
                ["fuse_unk"] = false,
                ["byte_fallback"] = false,
                ["vocab"] = vocab,
                ["merges"] = new JsonArray([.. tokenizer.Merges.Select(m => (JsonNode)$"{m.Left} {m.Right}")]),
            },
        };
        AtomicFile.Write(Path.Combine(dir, FileName), f =>
        {
            using var w = new Utf8JsonWriter(f);
            json.WriteTo(w);
        });
    }
}
