using System.Text.Json;
using System.Text.Json.Nodes;
using GptSharp.Checkpoints;
using GptSharp.Models;

namespace GptSharp.Distillation;

/// <summary>
/// A student's shape from a file: a Hugging Face GPT-2 config.json (it has model_type), or a GptConfig as JSON with
/// snake_case keys (vocab_size, block_size or n_positions, n_layer, n_head, n_embd, dropout, layer_norm_epsilon), whose
/// missing keys are the teacher's.
/// </summary>
public static class StudentConfigFile
{
    static readonly string[] Keys = ["vocab_size", "block_size", "n_positions", "n_layer", "n_head", "n_embd", "dropout", "layer_norm_epsilon"];

    public static GptConfig Read(string path, GptConfig teacher)
    {
        if (!File.Exists(path)) throw new GptSharpException($"student_config {path}: file not found");
        JsonObject o;
        try { o = JsonNode.Parse(File.ReadAllText(path)) as JsonObject ?? throw new GptSharpException($"student_config {path}: expected a JSON object"); }
        catch (JsonException e) { throw new GptSharpException($"student_config {path}: invalid JSON ({e.Message})"); }
        if (o.ContainsKey("model_type")) return HfConfig.Read(path);

        foreach (var (key, _) in o)
            if (!Keys.Contains(key))
                throw new GptSharpException($"student_config {path}: unknown key '{key}'; a model config takes {string.Join(", ", Keys)} (or is a Hugging Face config.json with model_type)");
        int Int(string key, int fallback) => o[key] switch
        {
            null => fallback,
            JsonValue v when v.TryGetValue<int>(out int i) => i,
            _ => throw new GptSharpException($"student_config {path}: {key} must be an integer"),
        };
        double Number(string key, double fallback) => o[key] switch
        {
            null => fallback,
            JsonValue v when v.TryGetValue<double>(out double d) => d,
            _ => throw new GptSharpException($"student_config {path}: {key} must be a number"),
        };
        try
        {
            return new GptConfig
            {
                VocabSize = Int("vocab_size", teacher.VocabSize),
                BlockSize = Int("block_size", Int("n_positions", teacher.BlockSize)),
                NLayer = Int("n_layer", teacher.NLayer),
                NHead = Int("n_head", teacher.NHead),
                NEmbd = Int("n_embd", teacher.NEmbd),
                Dropout = Number("dropout", teacher.Dropout),
                LayerNormEpsilon = Number("layer_norm_epsilon", teacher.LayerNormEpsilon),
            }.Validate();
        }
        catch (GptSharpException e)
        {
            throw new GptSharpException($"student_config {path}: {e.Message}");
        }
    }
}
