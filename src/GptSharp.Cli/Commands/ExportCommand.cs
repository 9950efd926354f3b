using System.CommandLine;
using System.Globalization;
using GptSharp.Checkpoints.Gguf;

namespace GptSharp.Cli.Commands;

/// <summary>
/// `gptsharp export`: a model directory in a format other runtimes run — GGUF for llama.cpp, Ollama and LLamaSharp
/// (<see cref="GgufExportCommand"/>), ONNX for ONNX Runtime and its GenAI library (<see cref="OnnxExportCommand"/>).
/// </summary>
static class ExportCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model directory to export (ours or a Hugging Face GPT-2; an int8 one exports its dequantised weights).", Required = true };
        var format = new Option<string>("--format") { Description = "gguf (one file for llama.cpp, Ollama, LLamaSharp) or onnx (a directory ONNX Runtime and ONNX Runtime GenAI run).", Required = true };
        format.AcceptOnlyFromAmong("gguf", "onnx");
        var output = new Option<string>("--output")
        {
            Description = "gguf: the .gguf file to write. onnx: a new directory with model.onnx, model.onnx.data (the weights), config.json, " +
                          "the tokenizer files with the chat template (and tokenizer.json), generation_config.json and genai_config.json.",
            Required = true,
        };
        var type = new Option<string?>("--type") { Description = GgufExportCommand.TypeHelp };
        type.AcceptOnlyFromAmong([.. GgufExportTypes.Names]);
        var precision = new Option<string?>("--precision") { Description = OnnxExportCommand.PrecisionHelp };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace an existing --output (never one that holds --model or the working directory)." };
        var cmd = new Command("export", "Export a model for other runtimes: --format gguf writes a GPT-2 GGUF with the tokenizer (chat role tokens " +
                                        "included) and the chat template in its metadata; --format onnx writes GPT-2 as an ONNX graph with past/present " +
                                        "key-value inputs and outputs (ONNX Runtime GenAI's gpt2 layout), plus its tokenizer and genai_config.json.")
            { model, format, output, type, precision, overwrite };
        cmd.SetAction((p, ct) =>
        {
            var w = p.InvocationConfiguration.Output;
            string m = p.GetValue(model)!, o = p.GetValue(output)!;
            bool replace = p.GetValue(overwrite);
            return Task.FromResult(p.GetValue(format) switch
            {
                "gguf" => p.GetValue(precision) is null ? GgufExportCommand.Run(m, o, p.GetValue(type), replace, w, ct)
                    : throw new GptSharpException("--precision applies to --format onnx; for gguf use --type f32|f16|q8_0|q4_0"),
                _ => p.GetValue(type) is null ? OnnxExportCommand.Run(m, o, p.GetValue(precision), replace, w)
                    : throw new GptSharpException("--type applies to GGUF; ONNX takes --precision fp32|int8|int4"),
            });
        });
        return cmd;
    }

    /// <summary>A file size for people: KiB below a MiB, MiB above.</summary>
    internal static string Size(long bytes) =>
        bytes >= 1 << 20 ? (bytes / 1048576.0).ToString("F1", CultureInfo.InvariantCulture) + " MiB"
        : (bytes / 1024.0).ToString("F1", CultureInfo.InvariantCulture) + " KiB";
}
