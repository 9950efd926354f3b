using System.Text.Json.Nodes;
using GptSharp.IO;
using GptSharp.Models.Quantized;
using GptSharp.Models;
using static TorchSharp.torch;

namespace GptSharp.Checkpoints;

/// <summary>
/// A weight-only int8 model directory: <c>model.int8.safetensors</c> holds, for each Linear weight (attn.c_attn,
/// attn.c_proj, mlp.c_fc, mlp.c_proj), <c>NAME.qweight</c> (I8, [out_features, in_features] as in nn.Linear — not
/// the Conv1D [in, out] of model.safetensors) and <c>NAME.scale</c> (F32, [out_features]); every other tensor is F32
/// under its usual name. <c>quantization_config.json</c> describes the scheme.
/// <para>Loading is transparent: <see cref="ModelDirectory.Load"/> falls back to this file when model.safetensors is
/// absent and builds <see cref="Int8Linear"/> layers from the stored int8 weights as they are (fp32 or bf16 on request:
/// the dequantised weights). <c>Compression.WeightQuantization</c> writes one from a float directory.</para>
/// </summary>
public static class Int8Checkpoint
{
    /// <summary>What <see cref="Read"/> returns; disposing it disposes every tensor.</summary>
    public sealed record StoredInt8(Dictionary<string, Tensor> Floats, Dictionary<string, Int8Weight> Quantized) : IDisposable
    {
        /// <summary>Every tensor this holds.</summary>
        public IEnumerable<Tensor> Tensors => Floats.Values.Concat(Quantized.Values.SelectMany(q => new[] { q.Values, q.Scale }));

        public void Dispose()
        {
            foreach (var t in Tensors) t.Dispose();
        }
    }

    public const string WeightsFile = "model.int8.safetensors", ConfigFile = "quantization_config.json";
    public const string QuantMethod = "gptsharp_int8_weight_only";
    const string WeightSuffix = ".weight", ValuesSuffix = ".qweight", ScaleSuffix = ".scale";
    static readonly string[] Modules = ["attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"];

    /// <summary>A Linear weight that gets quantised ("h.0.attn.c_attn.weight", …).</summary>
    public static bool IsQuantized(string parameterName) =>
        parameterName.EndsWith(WeightSuffix) && Modules.Any(m => parameterName.Contains($".{m}."));

    /// <summary>True when <paramref name="dir"/> holds int8 weights.</summary>
    public static bool Exists(string dir) => File.Exists(Path.Combine(dir, WeightsFile));

    /// <summary>
    /// Writes model.int8.safetensors and quantization_config.json into <paramref name="dir"/> (config.json is not
    /// touched). A float model's Linear weights are quantised here; a quantised one's (<see cref="Int8WeightOnly"/>) are
    /// written as they are, and its int8 token embedding as its dequantised rows (float32, as the format stores wte).
    /// </summary>
    public static void WriteWeights(Gpt model, string dir)
    {
        Directory.CreateDirectory(dir);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (name, module) in model.named_modules())
            switch (module)
            {
                case Int8TokenEmbedding embedding:
                    tensors[name + WeightSuffix] = Int8Weights.Dequantize(embedding.Weights.Values, embedding.Weights.Scale);
                    break;
                case Int8Linear linear when !name.EndsWith(".head"):
                    tensors[name + ValuesSuffix] = linear.Values;
                    tensors[name + ScaleSuffix] = linear.Scale.to(ScalarType.Float32);
                    if (linear.FloatBias is { } bias) tensors[name + ".bias"] = bias.to(ScalarType.Float32);
                    break;
            }
        foreach (var (name, p) in model.named_parameters())
        {
            if (IsQuantized(name))
            {
                var q = Int8Weights.Quantize(p);
                string module = name[..^WeightSuffix.Length];
                tensors[module + ValuesSuffix] = q.Values;
                tensors[module + ScaleSuffix] = q.Scale;
            }
            else tensors[name] = p.detach().to(ScalarType.Float32);
        }
        SafeTensors.Write(Path.Combine(dir, WeightsFile), tensors,
            new Dictionary<string, string> { ["format"] = "pt", ["quant_method"] = QuantMethod });
        var config = new JsonObject
        {
            ["quant_method"] = QuantMethod,
            ["bits"] = 8,
            ["symmetric"] = true,
            ["granularity"] = "per_output_channel",
            ["weights_file"] = WeightsFile,
            ["quantized_modules"] = new JsonArray(Modules.Select(m => (JsonNode?)JsonValue.Create(m)).ToArray()),
            ["qweight_layout"] = "[out_features, in_features]",
            ["compute_dtype"] = "float32",
        };
        AtomicFile.WriteAllText(Path.Combine(dir, ConfigFile), config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>config.json plus the int8 weights: a model directory that <see cref="HfCheckpoint.Load(string, TorchSharp.torch.Device?, GptSharp.Models.InferencePrecision)"/> reads.</summary>
    public static void Save(Gpt model, string dir, int? eosTokenId = null)
    {
        WriteWeights(model, dir);
        HfConfig.Write(Path.Combine(dir, HfCheckpoint.ConfigFile), model.Config, eosTokenId);
    }

    /// <summary>
    /// The int8 file's tensors: <see cref="StoredInt8.Floats"/> dequantised to float32, named and laid out as in
    /// model.safetensors (Linear weights as Conv1D [in, out]) so the ordinary loader can take them, and
    /// <see cref="StoredInt8.Quantized"/> the int8 weights themselves by module ("h.0.attn.c_attn"), for int8
    /// inference. The caller disposes both.
    /// </summary>
    public static StoredInt8 Read(string dir)
    {
        string path = Path.Combine(dir, WeightsFile);
        var stored = SafeTensors.Read(path);
        var floats = new Dictionary<string, Tensor>();
        var quantized = new Dictionary<string, Int8Weight>();
        var result = new StoredInt8(floats, quantized);
        try
        {
            foreach (var (name, t) in stored)
            {
                if (name.EndsWith(ScaleSuffix)) continue;
                if (!name.EndsWith(ValuesSuffix))
                {
                    floats[name] = t.dtype == ScalarType.Float32 ? t : t.to(ScalarType.Float32);
                    continue;
                }
                string module = name[..^ValuesSuffix.Length];
                if (!stored.TryGetValue(module + ScaleSuffix, out var scale))
                    throw new GptSharpException($"{path}: tensor '{name}' has no '{module}{ScaleSuffix}' beside it");
                if (t.dtype != ScalarType.Int8 || t.dim() != 2 || scale.dim() != 1 || scale.shape[0] != t.shape[0]
                    || !is_floating_point(scale))
                    throw new GptSharpException($"{path}: '{name}' must be I8 [out, in] with an F32 scale [out] " +
                        $"(got {t.dtype} [{string.Join(", ", t.shape)}] and {scale.dtype} [{string.Join(", ", scale.shape)}])");
                quantized[module] = new Int8Weight(t, scale.to(ScalarType.Float32));
                using var w = Int8Weights.Dequantize(t, scale);
                floats[module + WeightSuffix] = w.t().contiguous(); // Conv1D layout, as model.safetensors stores it
            }
        }
        catch
        {
            result.Dispose();
            foreach (var t in stored.Values) t.Dispose();
            throw;
        }
        // What moved into the result stays; the rest (scales converted above, other dtypes) goes.
        var kept = result.Tensors.ToHashSet(ReferenceEqualityComparer.Instance);
        foreach (var t in stored.Values)
            if (!kept.Contains(t)) t.Dispose();
        return result;
    }

    /// <summary>A file holding weights (any format) or the int8 scheme, which a quantised copy must not carry over.</summary>
    public static bool IsWeightsFile(string name) =>
        name == ConfigFile || name.EndsWith(".safetensors") || name.EndsWith(".bin") || name.EndsWith(".pt") || name.EndsWith(".pth")
        || name.EndsWith(".h5") || name.EndsWith(".msgpack") || name.EndsWith(".ckpt");
}
