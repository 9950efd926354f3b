namespace GptSharp.Models;

/// <summary>Named model shapes. Vocabulary and context come from the tokenizer and the data, so they are overridable.</summary>
public static class GptPresets
{
    public static readonly IReadOnlyDictionary<string, GptConfig> All = new Dictionary<string, GptConfig>
    {
        ["tiny"] = new() { NLayer = 4, NHead = 4, NEmbd = 256, BlockSize = 256 },
        ["small"] = new() { NLayer = 6, NHead = 6, NEmbd = 384, BlockSize = 512 },
        ["gpt2"] = new() { NLayer = 12, NHead = 12, NEmbd = 768, BlockSize = 1024 },
        ["gpt2-medium"] = new() { NLayer = 24, NHead = 16, NEmbd = 1024, BlockSize = 1024 },
    };

    public static GptConfig Get(string name) =>
        All.TryGetValue(name, out var c) ? c
            : throw new GptSharpException($"unknown model preset '{name}' (expected one of: {string.Join(", ", All.Keys)})");
}
