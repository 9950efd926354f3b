using GptSharp.Models;
using TorchSharp;
using static TorchSharp.torch;
using GptSharp.Models.Quantized;

namespace GptSharp.Checkpoints;

/// <summary>
/// A model directory in Hugging Face GPT-2 layout: config.json + model.safetensors (tokenizer files belong to the
/// tokenizer). GPT-2 stores its four projections as Conv1D weights <c>[in, out]</c>, the transpose of our Linear's.
/// </summary>
public static class HfCheckpoint
{
    public const string ConfigFile = "config.json", WeightsFile = "model.safetensors";

    internal static bool IsConv1D(string name) =>
        name.EndsWith(".weight") && (name.Contains(".attn.c_attn.") || name.Contains(".attn.c_proj.") || name.Contains(".mlp.c_fc.") || name.Contains(".mlp.c_proj."));

    /// <summary>Writes config.json and model.safetensors into <paramref name="dir"/> (created if needed), each atomically.</summary>
    public static void Save(Gpt model, string dir, ScalarType? dtype = null, int? eosTokenId = null)
    {
        Int8WeightOnly.RequireFloat(model, "save float weights");
        if (dtype is { } d && d is not (ScalarType.Float32 or ScalarType.Float16 or ScalarType.BFloat16))
            throw new GptSharpException($"cannot save weights as {d}; use float32, float16 or bfloat16");
        Directory.CreateDirectory(dir);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (name, p) in model.named_parameters())
        {
            Tensor t = IsConv1D(name) ? p.t() : p;
            if (dtype is { } dt && t.dtype != dt) t = t.to(dt);
            tensors[name] = t;
        }
        SafeTensors.Write(Path.Combine(dir, WeightsFile), tensors);
        HfConfig.Write(Path.Combine(dir, ConfigFile), model.Config, eosTokenId);
    }

    /// <summary>Reads config.json.</summary>
    public static GptConfig ReadConfig(string dir) => HfConfig.Read(Path.Combine(RequireDir(dir), ConfigFile));

    /// <summary>
    /// Loads a model directory's weights (ours or Hugging Face's GPT-2) onto <paramref name="device"/>, in float32: an
    /// int8 directory's dequantised. <see cref="ModelDirectory.Load"/> loads tokenizer and settings too, and int8 as int8.
    /// </summary>
    public static Gpt Load(string dir, Device? device = null) => Load(dir, device, InferencePrecision.Float32);

    /// <summary>
    /// The weights alone (no tokenizer: for work on token ids), set up for <paramref name="precision"/>:
    /// <see cref="InferencePrecision.Auto"/> is int8 for an int8 directory (its stored int8 weights used as they are),
    /// else float32.
    /// </summary>
    public static Gpt Load(string dir, Device? device, InferencePrecision precision)
    {
        var config = ReadConfig(dir);
        string weights = Path.Combine(dir, WeightsFile);
        // Weight-only int8 (gptsharp quantize) when there is no float file: dequantised into the float32 model, whose
        // Linear layers are then swapped for int8 ones built from the stored weights unless float was asked for.
        bool int8 = !File.Exists(weights) && Int8Checkpoint.Exists(dir), int4 = !int8 && Int4Checkpoint.Exists(dir);
        if (int8) weights = Path.Combine(dir, Int8Checkpoint.WeightsFile);
        else if (int4) weights = Path.Combine(dir, Int4Checkpoint.WeightsFile);
        else if (!File.Exists(weights)) throw new GptSharpException($"{weights}: file not found (only safetensors weights are supported)");

        var model = new Gpt(config);
        var expected = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using var int8Stored = int8 ? Int8Checkpoint.Read(dir) : null;
        // A 4-bit directory's weights dequantised: the float model then holds exactly what the int4 engine runs.
        var stored = int8Stored?.Floats
            ?? (int4 ? Int4Checkpoint.ReadFloats(dir, expected.ToDictionary(p => p.Key, p => p.Value.shape)) : SafeTensors.Read(weights));
        try
        {
            var seen = new HashSet<string>();
            using var _ = no_grad();
            foreach (var (rawName, t) in stored)
            {
                // DialoGPT-style prefixes; causal-mask buffers and the tied head are not parameters.
                string name = rawName.StartsWith("transformer.") ? rawName["transformer.".Length..] : rawName;
                if (name.EndsWith(".attn.bias") || name.EndsWith(".attn.masked_bias") || name == "lm_head.weight") continue;
                if (!expected.TryGetValue(name, out var p))
                    throw new GptSharpException($"{weights}: unexpected tensor '{rawName}' for a GPT-2 model");
                using var v = IsConv1D(name) ? t.t() : t.alias();
                if (!v.shape.SequenceEqual(p.shape))
                    throw new GptSharpException($"{weights}: tensor '{rawName}' has shape [{string.Join(", ", t.shape)}]; config.json implies " +
                        $"[{string.Join(", ", IsConv1D(name) ? p.shape.Reverse() : p.shape)}]");
                if (!torch.is_floating_point(v)) throw new GptSharpException($"{weights}: tensor '{rawName}' is not floating point ({v.dtype})");
                p.copy_(v);
                seen.Add(name);
            }
            var missing = expected.Keys.Except(seen).ToList();
            if (missing.Count > 0)
                throw new GptSharpException($"{weights}: missing tensors: {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? ", …" : "")}");
            if (precision == InferencePrecision.Int8 || precision == InferencePrecision.Auto && int8Stored is not null)
                Int8WeightOnly.Quantize(model, int8Stored?.Quantized); // an int8 directory's int8 weights as they are
            else PrecisionSetup.Apply(model, precision);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        finally
        {
            if (int8Stored is null) foreach (var t in stored.Values) t.Dispose();
        }
        if (device is not null && device.type != DeviceType.CPU) model.to(device);
        model.eval();
        return model;
    }

    static string RequireDir(string dir) =>
        Directory.Exists(dir) ? dir : throw new GptSharpException($"{dir}: model directory not found");
}
