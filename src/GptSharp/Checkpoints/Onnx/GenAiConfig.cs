using System.Text.Json;
using System.Text.Json.Nodes;
using GptSharp.IO;
using GptSharp.Inference.Onnx;
using GptSharp.Tokenization;

namespace GptSharp.Checkpoints.Onnx;

/// <summary>
/// genai_config.json for ONNX Runtime GenAI's <c>gpt2</c> model type: the decoder's file and input/output names, its
/// shape (layers, heads, head size), the special token ids and the search defaults from generation_config.json.
/// </summary>
static class GenAiConfig
{
    public const string FileName = "genai_config.json";

    public static void Write(string dir, ModelDirectory model, string modelFile)
    {
        var config = model.Model.Config;
        var generation = model.Generation;
        int eot = model.Tokenizer.EndOfTextId;
        var ends = new List<int> { eot };
        if (model.ChatTemplate is not null && model.Tokenizer.TokenToId(SpecialTokens.End) is int end) ends.Add(end);
        ends.AddRange(model.EndTokenIds);
        var json = new JsonObject
        {
            ["model"] = new JsonObject
            {
                ["type"] = "gpt2",
                ["bos_token_id"] = eot,
                ["eos_token_id"] = new JsonArray(ends.Distinct().Select(i => (JsonNode)i).ToArray()),
                ["pad_token_id"] = eot,
                ["vocab_size"] = config.VocabSize,
                ["context_length"] = config.BlockSize,
                ["decoder"] = new JsonObject
                {
                    ["session_options"] = new JsonObject { ["log_id"] = "onnxruntime-genai", ["provider_options"] = new JsonArray() },
                    ["filename"] = modelFile,
                    ["head_size"] = config.HeadSize,
                    ["hidden_size"] = config.NEmbd,
                    ["num_attention_heads"] = config.NHead,
                    ["num_key_value_heads"] = config.NHead,
                    ["num_hidden_layers"] = config.NLayer,
                    ["inputs"] = new JsonObject
                    {
                        ["input_ids"] = GptOnnxGraph.InputIds,
                        ["position_ids"] = GptOnnxGraph.PositionIds,
                        ["attention_mask"] = GptOnnxGraph.AttentionMask,
                        ["past_names"] = GptOnnxGraph.PastFormat,
                    },
                    ["outputs"] = new JsonObject
                    {
                        ["logits"] = GptOnnxGraph.Logits,
                        ["present_names"] = GptOnnxGraph.PresentFormat,
                    },
                },
            },
            ["search"] = new JsonObject
            {
                ["do_sample"] = !generation.IsGreedy,
                ["max_length"] = config.BlockSize,
                ["min_length"] = 0,
                ["num_beams"] = generation.NumBeams,
                ["num_return_sequences"] = generation.NumReturnSequences,
                ["temperature"] = generation.Temperature == 0 ? 1.0 : generation.Temperature,
                ["top_k"] = generation.TopK,
                ["top_p"] = generation.TopP,
                ["repetition_penalty"] = generation.RepetitionPenalty,
                ["length_penalty"] = generation.LengthPenalty,
                ["early_stopping"] = generation.EarlyStopping,
                // Our graph concatenates past and new keys, so each step's present is a new, longer buffer.
                ["past_present_share_buffer"] = false,
            },
        };
        AtomicFile.WriteAllText(Path.Combine(dir, FileName), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
