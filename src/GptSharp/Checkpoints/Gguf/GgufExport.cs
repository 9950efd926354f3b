using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using GptSharp.IO;
using GptSharp.Models;
using GptSharp.Tokenization;
using static TorchSharp.torch;

namespace GptSharp.Checkpoints.Gguf;

/// <summary>
/// A model directory as a GPT-2 GGUF file that llama.cpp (and what builds on it: Ollama, LLamaSharp) runs, following
/// llama.cpp's own converter: its tensor names (token_embd, position_embd, blk.N.attn_norm / attn_qkv / attn_output /
/// ffn_norm / ffn_up / ffn_down, output_norm; no output.weight, the head is tied), Linear weights as ggml's
/// <c>ne = [in, out]</c>, the <c>gpt2.*</c> hyperparameters, the tokenizer (<see cref="GgufTokenizer"/>) and, for a chat
/// model, its chat template.
/// <para>Types: 1-D tensors (biases, layer norms) and position_embd stay F32 in every type, as llama.cpp keeps them.
/// Matrices get the asked type; a matrix whose rows are not whole 32-value blocks falls back to F16 (as the converter
/// does), and in q4_0 the tied embedding / LM head is Q8_0 (llama-quantize gives it Q6_K: 4 bits cost the head most).</para>
/// <para>An int8 directory (<c>gptsharp quantize</c>) is exported from its dequantised weights.</para>
/// </summary>
public static partial class GgufExport
{
    public const string Architecture = "gpt2";

    /// <summary>
    /// Checks everything first (the directory, the output), then writes <paramref name="output"/> atomically: a temporary
    /// sibling renamed into place once complete. An existing output is replaced only with <paramref name="overwrite"/>.
    /// </summary>
    public static GgufExportReport Export(string modelDir, string output, GgufExportType type, bool overwrite = false, CancellationToken ct = default)
    {
        if (!Directory.Exists(modelDir)) throw new GptSharpException($"{modelDir}: model directory not found");
        CheckOutput(output, overwrite, modelDir);
        using var model = ModelDirectory.Load(modelDir, new LoadOptions { Precision = InferencePrecision.Float32, Engine = DecodingEngineKind.Torch });
        ct.ThrowIfCancellationRequested();
        var config = model.Model.Config;

        var writer = new GgufWriter();
        writer.Add("general.architecture", GgufValue.Of(Architecture));
        writer.Add("general.name", GgufValue.Of(ModelName(modelDir)));
        writer.Add("general.file_type", GgufValue.Of(type.FileType()));
        writer.Add("general.quantization_version", GgufValue.Of(2u)); // ggml's GGML_QNT_VERSION
        writer.Add($"{Architecture}.context_length", GgufValue.Of((uint)config.BlockSize));
        writer.Add($"{Architecture}.embedding_length", GgufValue.Of((uint)config.NEmbd));
        writer.Add($"{Architecture}.feed_forward_length", GgufValue.Of((uint)(4 * config.NEmbd)));
        writer.Add($"{Architecture}.block_count", GgufValue.Of((uint)config.NLayer));
        writer.Add($"{Architecture}.attention.head_count", GgufValue.Of((uint)config.NHead));
        writer.Add($"{Architecture}.attention.layer_norm_epsilon", GgufValue.Of((float)config.LayerNormEpsilon));
        // The template renders role tokens, so it only comes along when the embedding has rows for them.
        bool chat = model.ChatTemplate is { } t && new[] { t.SystemId, t.UserId, t.AssistantId, t.EndId }.All(id => id < config.VocabSize);
        GgufTokenizer.AddTo(writer, model.Tokenizer, config.VocabSize, chat ? ChatTemplate.JinjaTemplate : null);

        int quantized = 0;
        foreach (var (name, parameter) in model.Model.named_parameters())
        {
            string ggufName = TensorName(name);
            long[] dims = [.. parameter.shape.Reverse()];
            var tensorType = TensorType(ggufName, dims, type);
            if (tensorType is GgufTensorType.Q8_0 or GgufTensorType.Q4_0) quantized++;
            writer.AddTensor(ggufName, dims, tensorType, () =>
            {
                ct.ThrowIfCancellationRequested();
                using var values = parameter.detach().cpu().to(ScalarType.Float32).contiguous();
                return Encode(values.data<float>().ToArray(), tensorType);
            });
        }
        writer.Write(output);
        return new GgufExportReport(output, type, new FileInfo(output).Length, writer.Tensors.Count(), quantized, config.VocabSize, chat);
    }

    /// <summary>llama.cpp's GPT-2 tensor name for one of ours (Hugging Face's names).</summary>
    public static string TensorName(string name)
    {
        switch (name)
        {
            case "wte.weight": return "token_embd.weight";
            case "wpe.weight": return "position_embd.weight";
            case "ln_f.weight": return "output_norm.weight";
            case "ln_f.bias": return "output_norm.bias";
        }
        var m = BlockParameter().Match(name);
        string? part = m.Success ? m.Groups[2].Value switch
        {
            "ln_1" => "attn_norm",
            "attn.c_attn" => "attn_qkv",
            "attn.c_proj" => "attn_output",
            "ln_2" => "ffn_norm",
            "mlp.c_fc" => "ffn_up",
            "mlp.c_proj" => "ffn_down",
            _ => null,
        } : null;
        return part is null ? throw new InvalidOperationException($"no GGUF name for the parameter '{name}'")
            : $"blk.{m.Groups[1].Value}.{part}.{m.Groups[3].Value}";
    }

    [GeneratedRegex(@"^h\.(\d+)\.(ln_1|ln_2|attn\.c_attn|attn\.c_proj|mlp\.c_fc|mlp\.c_proj)\.(weight|bias)$")]
    private static partial Regex BlockParameter();

    /// <summary>The encoding of one tensor in a file of <paramref name="type"/> (see the class comment).</summary>
    public static GgufTensorType TensorType(string ggufName, long[] dims, GgufExportType type)
    {
        if (dims.Length == 1 || ggufName == "position_embd.weight") return GgufTensorType.F32;
        var matrix = type.MatrixType();
        if (matrix is GgufTensorType.Q8_0 or GgufTensorType.Q4_0 && dims[0] % GgufTensorTypes.BlockSize(matrix) != 0) return GgufTensorType.F16;
        if (matrix == GgufTensorType.Q4_0 && ggufName == "token_embd.weight") return GgufTensorType.Q8_0;
        return matrix;
    }

    /// <summary>Row-major floats (ggml order) encoded as <paramref name="type"/>.</summary>
    public static byte[] Encode(float[] values, GgufTensorType type) => type switch
    {
        GgufTensorType.F32 => MemoryMarshal.AsBytes(values.AsSpan()).ToArray(),
        GgufTensorType.F16 => MemoryMarshal.AsBytes(values.Select(v => (Half)v).ToArray().AsSpan()).ToArray(),
        GgufTensorType.Q8_0 => Q8_0Quantizer.Quantize(values),
        GgufTensorType.Q4_0 => Q4_0Quantizer.Quantize(values),
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>The folder's name; a run's "final" or "checkpoint-N" gets the run's name before it ("chat-final").</summary>
    static string ModelName(string modelDir)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(modelDir));
        string name = Path.GetFileName(full);
        string? parent = Path.GetFileName(Path.GetDirectoryName(full));
        return (name == "final" || name.StartsWith("checkpoint-", StringComparison.Ordinal)) && !string.IsNullOrEmpty(parent) ? $"{parent}-{name}" : name;
    }

    /// <summary>
    /// The output must be a file we may create or, with <paramref name="overwrite"/>, replace; never a directory, and
    /// never one of the model directory's own files.
    /// </summary>
    static void CheckOutput(string output, bool overwrite, string modelDir)
    {
        string full = Path.GetFullPath(output);
        if (File.Exists(full))
        {
            if (!overwrite) throw new GptSharpException($"{output}: output file already exists; pass --overwrite to replace it");
            if (Path.TrimEndingDirectorySeparator(Path.GetFullPath(modelDir)) == Path.GetDirectoryName(full) && !full.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase))
                throw new GptSharpException($"{output}: refusing to replace a file of the model directory; choose another output");
        }
        OutputDirectory.CheckFile(output);
    }
}
