using System.CommandLine;
using System.Globalization;
using GptSharp.Checkpoints.Gguf;

namespace GptSharp.Cli.Commands;

/// <summary>`gptsharp export`: a model directory in a format other runtimes run (GGUF for llama.cpp; ONNX).</summary>
static class ExportCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model directory to export (config.json, model.safetensors, tokenizer files); an int8 directory is exported from its dequantised weights.", Required = true };
        var format = new Option<string>("--format") { Description = "gguf (one file for llama.cpp, Ollama, LLamaSharp) or onnx.", Required = true };
        format.AcceptOnlyFromAmong("gguf", "onnx");
        var output = new Option<string>("--output") { Description = "What to write: a .gguf file for --format gguf.", Required = true };
        var type = new Option<string?>("--type")
        {
            Description = "GGUF weight type: f32, f16 (default, as llama.cpp's converter), q8_0 or q4_0 (32-value blocks, one fp16 scale each; " +
                          "biases, layer norms and position embeddings stay f32; in q4_0 the tied embedding / LM head is q8_0).",
        };
        type.AcceptOnlyFromAmong([.. GgufExportTypes.Names]);
        var precision = new Option<string?>("--precision") { Description = "ONNX weight precision (fp32, int8, int4); for GGUF use --type." };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace an existing --output." };
        var cmd = new Command("export", "Export a model for other runtimes: a GPT-2 GGUF file with the tokenizer (chat role tokens included) " +
                                        "and chat template in its metadata, which llama.cpp, Ollama and LLamaSharp run; or ONNX.")
            { model, format, output, type, precision, overwrite };
        cmd.SetAction((p, ct) =>
        {
            var w = p.InvocationConfiguration.Output;
            switch (p.GetValue(format))
            {
                case "gguf":
                    if (p.GetValue(precision) is not null) throw new GptSharpException("--precision applies to --format onnx; for gguf use --type f32|f16|q8_0|q4_0");
                    var ggufType = GgufExportTypes.Parse(p.GetValue(type) ?? "f16");
                    var r = GgufExport.Export(p.GetValue(model)!, p.GetValue(output)!, ggufType, p.GetValue(overwrite), ct);
                    w.WriteLine($"wrote {r.Path}: GGUF {r.Type.Name()}, {Size(r.Bytes)}, {r.Tensors} tensors ({r.QuantizedTensors} quantised), " +
                                $"{r.VocabularySize} tokens{(r.ChatTemplate ? ", chat template" : "")}");
                    return Task.FromResult(0);
                default:
                    throw new GptSharpException("--format onnx is not available in this build of gptsharp; use --format gguf");
            }
        });
        return cmd;
    }

    static string Size(long bytes) =>
        bytes >= 1 << 20 ? (bytes / 1048576.0).ToString("F1", CultureInfo.InvariantCulture) + " MiB"
        : (bytes / 1024.0).ToString("F1", CultureInfo.InvariantCulture) + " KiB";
}
