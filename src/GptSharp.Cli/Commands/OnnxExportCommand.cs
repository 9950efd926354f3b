using GptSharp.Checkpoints.Onnx;
using GptSharp.Inference.Onnx;

namespace GptSharp.Cli.Commands;

/// <summary>`gptsharp export --format onnx`: what the shared export command runs for ONNX.</summary>
static class OnnxExportCommand
{
    public const string PrecisionHelp =
        "ONNX only: fp32 (standard ONNX operators, any ONNX runtime) or int8 / int4 (the linear layers' weights in blocks of 32 " +
        "with one scale each, for ONNX Runtime's MatMulNBits; embedding and LM head stay fp32). Default fp32.";

    /// <summary>Exports <paramref name="model"/> to the directory <paramref name="output"/>; returns the exit code.</summary>
    public static int Run(string model, string output, string? precision, bool overwrite, TextWriter w)
    {
        var p = OnnxPrecisionNames.Parse(precision ?? "fp32");
        var r = OnnxExport.Export(model, output, p, overwrite);
        w.WriteLine($"exported {model} as ONNX ({p.Name()}): {Path.Combine(output, OnnxExport.ModelFile)} ({ExportCommand.Size(r.ModelBytes)}) + " +
                    $"{OnnxExport.DataFile} ({ExportCommand.Size(r.DataBytes)} of weights)");
        w.WriteLine($"files: {string.Join(", ", r.Files)}");
        w.WriteLine("inputs: input_ids, position_ids [batch, sequence], attention_mask [batch, past + sequence] (int64), " +
                    "past_N [2, batch, heads, past, head_size]; outputs: logits, present_N. genai_config.json: ONNX Runtime GenAI's gpt2 type");
        return 0;
    }
}
