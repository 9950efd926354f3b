using System.Reflection;
using GptSharp.IO;
using GptSharp.Inference.Onnx;
using GptSharp.Models;
using static TorchSharp.torch;

namespace GptSharp.Checkpoints.Onnx;

/// <summary>
/// Exports a model directory as an ONNX model directory: <c>model.onnx</c> (the graph of <c>GptOnnxGraph</c>) with
/// its weights in <c>model.onnx.data</c> (external data, as ONNX Runtime GenAI's exports; no 2 GB protobuf limit),
/// config.json, the tokenizer files with the chat template (and tokenizer.json, the one form GenAI reads),
/// generation_config.json, and genai_config.json for ONNX Runtime GenAI. fp32 uses standard ONNX operators only (opset 17); int8 and int4 store the linear layers'
/// weights for ONNX Runtime's <c>MatMulNBits</c> (block size 32), the embedding and LM head stay fp32.
/// The directory appears whole or not at all.
/// </summary>
public static class OnnxExport
{
    public const string ModelFile = "model.onnx", DataFile = "model.onnx.data";

    /// <summary>Loads <paramref name="modelDir"/> (an int8 directory as its dequantised weights) and exports it to <paramref name="outputDir"/>.</summary>
    public static OnnxExportResult Export(string modelDir, string outputDir, OnnxPrecision precision = OnnxPrecision.Float32,
                                          bool overwrite = false, string overwriteFlag = "--overwrite")
    {
        RequireExportable(precision);
        if (!Directory.Exists(modelDir)) throw new GptSharpException($"{modelDir}: model directory not found");
        OutputDirectory.Check(outputDir, overwrite, overwriteFlag, [modelDir]);
        using var model = ModelDirectory.Load(modelDir, new LoadOptions { Precision = InferencePrecision.Float32, Engine = DecodingEngineKind.Torch });
        return Export(model, outputDir, precision);
    }

    /// <summary>
    /// Exports a loaded model to <paramref name="outputDir"/>, replacing it once complete (check it with
    /// <see cref="OutputDirectory.Check"/> first when it is the user's choice).
    /// </summary>
    public static OnnxExportResult Export(ModelDirectory model, string outputDir, OnnxPrecision precision = OnnxPrecision.Float32)
    {
        RequireExportable(precision);
        if (model.Model.Device.type != TorchSharp.DeviceType.CPU)
            throw new GptSharpException("ONNX export reads the weights on the CPU; load the model without a device");
        long modelBytes = 0, dataBytes = 0;
        OutputDirectory.Write(outputDir, dir =>
        {
            using (no_grad())
            using (var data = new FileStream(Path.Combine(dir, DataFile), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 20))
            {
                var builder = new OnnxGraphBuilder("gptsharp_gpt2", data, DataFile);
                var onnx = GptOnnxGraph.Build(model.Model, builder, precision, Version());
                data.Flush(flushToDisk: true);
                dataBytes = data.Length;
                AtomicFile.Write(Path.Combine(dir, ModelFile), f => { using var w = new Google.Protobuf.CodedOutputStream(f, leaveOpen: true); onnx.WriteTo(w); });
            }
            modelBytes = new FileInfo(Path.Combine(dir, ModelFile)).Length;
            HfConfig.Write(Path.Combine(dir, HfCheckpoint.ConfigFile), model.Model.Config, model.Tokenizer.EndOfTextId);
            model.WriteTokenizerFiles(dir, alwaysGeneration: true);
            TokenizerJson.Write(dir, model.Tokenizer);
            GenAiConfig.Write(dir, model, ModelFile);
        });
        var files = Directory.EnumerateFiles(outputDir).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal).ToArray();
        return new OnnxExportResult(outputDir, precision, files, modelBytes, dataBytes);
    }

    static string Version() =>
        typeof(OnnxExport).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0";

    static void RequireExportable(OnnxPrecision precision)
    {
        if (precision == OnnxPrecision.BFloat16)
            throw new GptSharpException($"ONNX export writes {OnnxPrecisionNames.Choices} weights; bf16 is a precision of the onnx engine only (ONNX Runtime's CPU has no bf16 MatMul)");
    }
}
