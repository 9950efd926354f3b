using System.Text.Json;
using System.Text.Json.Nodes;
using GptSharp.Models;
using GptSharp.IO;

namespace GptSharp.Checkpoints;

/// <summary>Hugging Face GPT-2 <c>config.json</c> ⇄ <see cref="GptConfig"/>.</summary>
public static class HfConfig
{
    public static GptConfig Read(string path)
    {
        if (!File.Exists(path)) throw new GptSharpException($"{path}: file not found (a model directory needs config.json)");
        JsonObject o;
        try { o = JsonNode.Parse(File.ReadAllText(path))?.AsObject() ?? throw new GptSharpException($"{path}: expected a JSON object"); }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { throw new GptSharpException($"{path}: invalid JSON ({e.Message})"); }

        string? type = Str(o, "model_type");
        if (type is not null && type != "gpt2") throw new GptSharpException($"{path}: model_type is '{type}'; only 'gpt2' models are supported");
        string act = Str(o, "activation_function") ?? "gelu_new";
        if (act is not ("gelu_new" or "gelu_pytorch_tanh" or "gelu_fast"))
            throw new GptSharpException($"{path}: activation_function '{act}' is not supported (GPT-2 uses the tanh GELU 'gelu_new')");
        if (o["tie_word_embeddings"] is JsonValue tie && !tie.GetValue<bool>())
            throw new GptSharpException($"{path}: untied LM heads are not supported (tie_word_embeddings must be true)");
        if (o["scale_attn_by_inverse_layer_idx"] is JsonValue s && s.GetValue<bool>())
            throw new GptSharpException($"{path}: scale_attn_by_inverse_layer_idx is not supported");

        int nEmbd = Int(o, "n_embd", path);
        if (o["n_inner"] is JsonValue inner && inner.GetValue<int>() != 4 * nEmbd)
            throw new GptSharpException($"{path}: n_inner must be null or 4 × n_embd");
        return new GptConfig
        {
            VocabSize = Int(o, "vocab_size", path),
            BlockSize = o.ContainsKey("n_positions") ? Int(o, "n_positions", path) : Int(o, "n_ctx", path),
            NLayer = Int(o, "n_layer", path),
            NHead = Int(o, "n_head", path),
            NEmbd = nEmbd,
            Dropout = o["resid_pdrop"] is JsonValue d ? d.GetValue<double>() : 0.1,
            LayerNormEpsilon = o["layer_norm_epsilon"] is JsonValue eps ? eps.GetValue<double>() : 1e-5,
        }.Validate();
    }

    public static void Write(string path, GptConfig c, int? eosTokenId = null)
    {
        int eos = eosTokenId ?? Math.Min(50256, c.VocabSize - 1);
        var o = new JsonObject
        {
            ["activation_function"] = "gelu_new",
            ["architectures"] = new JsonArray("GPT2LMHeadModel"),
            ["attn_pdrop"] = c.Dropout,
            ["bos_token_id"] = eos,
            ["embd_pdrop"] = c.Dropout,
            ["eos_token_id"] = eos,
            ["initializer_range"] = 0.02,
            ["layer_norm_epsilon"] = c.LayerNormEpsilon,
            ["model_type"] = "gpt2",
            ["n_ctx"] = c.BlockSize,
            ["n_embd"] = c.NEmbd,
            ["n_head"] = c.NHead,
            ["n_inner"] = null,
            ["n_layer"] = c.NLayer,
            ["n_positions"] = c.BlockSize,
            ["resid_pdrop"] = c.Dropout,
            ["scale_attn_weights"] = true,
            ["tie_word_embeddings"] = true,
            ["torch_dtype"] = "float32",
            ["use_cache"] = true,
            ["vocab_size"] = c.VocabSize,
        };
        AtomicFile.WriteAllText(path, o.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    static string? Str(JsonObject o, string key) => o[key] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    static int Int(JsonObject o, string key, string path)
    {
        if (o[key] is JsonValue v && v.TryGetValue<int>(out int i)) return i;
        if (o[key] is JsonValue d && d.TryGetValue<double>(out double x) && x == Math.Floor(x)) return (int)x;
        throw new GptSharpException($"{path}: missing or non-integer '{key}'");
    }
}
