using GptSharp.Checkpoints.Gguf;

namespace GptSharp.Cli.Commands;

/// <summary>`gptsharp export --format gguf`: what the shared export command runs for GGUF.</summary>
static class GgufExportCommand
{
    public const string TypeHelp =
        "GGUF only: the weight type, f32, f16 (default, as llama.cpp's converter), q8_0 or q4_0 (32-value blocks, one fp16 scale each; " +
        "biases, layer norms and position embeddings stay f32; in q4_0 the tied embedding / LM head is q8_0).";

    /// <summary>Exports <paramref name="model"/> to the file <paramref name="output"/>; returns the exit code.</summary>
    public static int Run(string model, string output, string? type, bool overwrite, TextWriter w, CancellationToken ct)
    {
        var r = GgufExport.Export(model, output, GgufExportTypes.Parse(type ?? "f16"), overwrite, ct);
        w.WriteLine($"wrote {r.Path}: GGUF {r.Type.Name()}, {ExportCommand.Size(r.Bytes)}, {r.Tensors} tensors ({r.QuantizedTensors} quantised), " +
                    $"{r.VocabularySize} tokens{(r.ChatTemplate ? ", chat template" : "")}");
        return 0;
    }
}
