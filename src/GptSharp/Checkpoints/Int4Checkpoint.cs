using System.Text.Json.Nodes;
using GptSharp.IO;
using GptSharp.Models;
using GptSharp.Models.Quantized;
using static TorchSharp.torch;

namespace GptSharp.Checkpoints;

/// <summary>
/// A 4-bit model directory: <c>model.int4.safetensors</c> holds, for each block's linear weight (attn.c_attn,
/// attn.c_proj, mlp.c_fc, mlp.c_proj), <c>NAME.qweight4</c> (U8, [out_features, blocks · 16]: two levels a byte, low
/// nibble first) and <c>NAME.scales</c> (F32, [out_features, blocks]) in <see cref="BlockQuantization"/>'s layout
/// (blocks of 32 along in_features, as q4_0 and MatMulNBits); every other tensor is F32 under its usual name and
/// layout. <c>quantization_config.json</c> describes the scheme.
/// <para>Loading is transparent: <see cref="ModelDirectory.Load"/> reads this file when model.safetensors is absent,
/// runs it in int4 on the onnx engine (the same bytes, as MatMulNBits) and keeps the dequantised weights in the float
/// model for losses. <c>Compression.WeightQuantization</c> writes one from a float directory.</para>
/// </summary>
public static class Int4Checkpoint
{
    public const string WeightsFile = "model.int4.safetensors";
    public const string QuantMethod = "gptsharp_int4_block32";
    const string WeightSuffix = ".weight", LevelsSuffix = ".qweight4", ScalesSuffix = ".scales";

    /// <summary>True when <paramref name="dir"/> holds 4-bit weights and no float ones.</summary>
    public static bool Exists(string dir) =>
        File.Exists(Path.Combine(dir, WeightsFile)) && !File.Exists(Path.Combine(dir, HfCheckpoint.WeightsFile));

    /// <summary>Writes model.int4.safetensors and quantization_config.json for a float model into <paramref name="dir"/>.</summary>
    public static void WriteWeights(Gpt model, string dir)
    {
        Int8WeightOnly.RequireFloat(model, "save it in 4 bits");
        Directory.CreateDirectory(dir);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (name, p) in model.named_parameters())
        {
            var w = p.detach().to(ScalarType.Float32).cpu().contiguous();
            if (!BlockQuantization.IsBlockLinear(name)) { tensors[name] = HfCheckpoint.IsConv1D(name) ? w.t().contiguous() : w; continue; }
            var (packed, scales) = BlockQuantization.Quantize(w, 4);
            string module = name[..^WeightSuffix.Length];
            tensors[module + LevelsSuffix] = packed;
            tensors[module + ScalesSuffix] = scales;
        }
        SafeTensors.Write(Path.Combine(dir, WeightsFile), tensors,
            new Dictionary<string, string> { ["format"] = "pt", ["quant_method"] = QuantMethod });
        var config = new JsonObject
        {
            ["quant_method"] = QuantMethod,
            ["bits"] = 4,
            ["symmetric"] = true,
            ["group_size"] = BlockQuantization.BlockSize,
            ["zero_point"] = 8,
            ["weights_file"] = WeightsFile,
            ["quantized_modules"] = new JsonArray("attn.c_attn", "attn.c_proj", "mlp.c_fc", "mlp.c_proj"),
            ["qweight_layout"] = "[out_features, in_features / 2], low nibble first",
            ["compute"] = "onnxruntime MatMulNBits, accuracy_level 4 (int8 activations)",
        };
        AtomicFile.WriteAllText(Path.Combine(dir, Int8Checkpoint.ConfigFile), config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>
    /// The file's tensors dequantised to float32, named and laid out as in model.safetensors (linear weights as Conv1D
    /// [in, out]) so the ordinary loader can take them; <paramref name="shapes"/> gives each parameter's [out, in] (the
    /// stored blocks may pad in_features up to a multiple of 32). The caller disposes them.
    /// </summary>
    public static Dictionary<string, Tensor> ReadFloats(string dir, IReadOnlyDictionary<string, long[]> shapes)
    {
        string path = Path.Combine(dir, WeightsFile);
        var stored = SafeTensors.Read(path);
        var floats = new Dictionary<string, Tensor>();
        try
        {
            foreach (var (name, t) in stored)
            {
                if (name.EndsWith(ScalesSuffix)) continue;
                if (!name.EndsWith(LevelsSuffix)) { floats[name] = t.dtype == ScalarType.Float32 ? t.alias() : t.to(ScalarType.Float32); continue; }
                string module = name[..^LevelsSuffix.Length];
                if (!stored.TryGetValue(module + ScalesSuffix, out var scales))
                    throw new GptSharpException($"{path}: tensor '{name}' has no '{module}{ScalesSuffix}' beside it");
                if (t.dtype != ScalarType.Byte || t.dim() != 2 || scales.dtype != ScalarType.Float32 || scales.dim() != 2
                    || scales.shape[0] != t.shape[0] || t.shape[1] != scales.shape[1] * BlockQuantization.BlockSize / 2)
                    throw new GptSharpException($"{path}: '{name}' must be U8 [out, blocks·16] with F32 scales [out, blocks] " +
                                                $"(got {t.dtype} [{string.Join(", ", t.shape)}], {scales.dtype} [{string.Join(", ", scales.shape)}])");
                if (!shapes.TryGetValue(module + WeightSuffix, out var shape) || shape.Length != 2 || shape[0] != t.shape[0]
                    || (shape[1] + BlockQuantization.BlockSize - 1) / BlockQuantization.BlockSize != scales.shape[1])
                    throw new GptSharpException($"{path}: '{name}' ([{string.Join(", ", t.shape)}]) does not fit config.json's model");
                using var linear = BlockQuantization.Dequantize(t, scales, (int)shape[1], 4);
                floats[module + WeightSuffix] = linear.t().contiguous(); // Conv1D layout, as model.safetensors
            }
        }
        catch
        {
            foreach (var f in floats.Values) f.Dispose();
            throw;
        }
        finally
        {
            foreach (var t in stored.Values) t.Dispose();
        }
        return floats;
    }
}
