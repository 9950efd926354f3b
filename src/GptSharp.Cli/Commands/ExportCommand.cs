using System.CommandLine;

namespace GptSharp.Cli.Commands;

/// <summary>`gptsharp export`: a model directory in another format. Each format's work is in its own command file.</summary>
static class ExportCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model directory to export (ours or a Hugging Face GPT-2; an int8 one exports its dequantised weights).", Required = true };
        var format = new Option<string>("--format") { Description = "onnx: a directory ONNX Runtime (and ONNX Runtime GenAI) runs.", Required = true };
        var output = new Option<string>("--output") { Description = "For onnx, a new directory: model.onnx, model.onnx.data (the weights), config.json, the tokenizer files with the chat template (and tokenizer.json), generation_config.json and genai_config.json.", Required = true };
        var type = new Option<string?>("--type") { Description = "GGUF only: the tensor type." };
        var precision = new Option<string?>("--precision") { Description = OnnxExportCommand.PrecisionHelp };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace an existing, non-empty --output (never one that holds --model or the working directory)." };
        var cmd = new Command("export", "Export a model for other runtimes: --format onnx writes GPT-2 as an ONNX graph with past/present " +
                                        "key-value inputs and outputs (ONNX Runtime's layout for GPT-2), plus its tokenizer and genai_config.json.")
            { model, format, output, type, precision, overwrite };
        cmd.SetAction((p, ct) =>
        {
            string f = p.GetValue(format)!.Trim().ToLowerInvariant();
            if (f != "onnx") throw new GptSharpException($"unknown export format '{p.GetValue(format)}' (expected onnx)");
            if (p.GetValue(type) is not null) throw new GptSharpException("--type applies to GGUF; ONNX takes --precision fp32|int8|int4");
            return Task.FromResult(OnnxExportCommand.Run(p.GetValue(model)!, p.GetValue(output)!, p.GetValue(precision), p.GetValue(overwrite),
                                                         p.InvocationConfiguration.Output));
        });
        return cmd;
    }
}
