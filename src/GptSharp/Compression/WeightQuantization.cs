using GptSharp.Checkpoints;
using GptSharp.IO;
using GptSharp.Models;
using GptSharp.Models.Quantized;

namespace GptSharp.Compression;

/// <summary>Sizes before and after <see cref="WeightQuantization.QuantizeDirectory"/>, in bytes.</summary>
public sealed record QuantizationReport(
    long OriginalFileBytes, long QuantizedFileBytes, long LinearFloat32Bytes, long LinearQuantizedBytes, int QuantizedTensors);

/// <summary>
/// Weight-only quantisation of a model directory: int8 with one scale per output channel (the format:
/// <see cref="Int8Checkpoint"/>; libtorch's int8 matmul runs it), or 4 bits in blocks of 32 (<see cref="Int4Checkpoint"/>;
/// the onnx engine runs it).
/// </summary>
public static class WeightQuantization
{
    /// <summary>
    /// Loads <paramref name="inputDir"/>, quantises it (<see cref="Int8WeightOnly.Quantize"/>) and saves it to
    /// <paramref name="outputDir"/> (the int8 weights; every other file that holds no weights copied as it is), replacing the output only once complete. An existing
    /// non-empty output is replaced only when <paramref name="overwrite"/> is set, and never when it holds the input or
    /// the working directory (<see cref="OutputDirectory.Check"/>).
    /// </summary>
    public static QuantizationReport QuantizeDirectory(string inputDir, string outputDir, CancellationToken ct = default, bool overwrite = false, int bits = 8)
    {
        if (bits is not (8 or 4)) throw new GptSharpException($"--bits must be 8 or 4 (got {bits})");
        if (Path.TrimEndingDirectorySeparator(Path.GetFullPath(inputDir)) == Path.TrimEndingDirectorySeparator(Path.GetFullPath(outputDir)))
            throw new GptSharpException($"--output must differ from --model ({outputDir})");
        OutputDirectory.Check(outputDir, overwrite, "--overwrite", [inputDir]);
        using var model = ModelDirectory.Load(inputDir, new LoadOptions { Precision = InferencePrecision.Float32, Engine = DecodingEngineKind.Torch });
        ct.ThrowIfCancellationRequested();
        string source = new[] { HfCheckpoint.WeightsFile, Int8Checkpoint.WeightsFile, Int4Checkpoint.WeightsFile }
            .First(f => File.Exists(Path.Combine(inputDir, f)));
        long linearFp32 = 0, linearInt8 = 0;
        int count = 0;
        foreach (var (name, p) in model.Model.named_parameters())
        {
            if (!Int8Checkpoint.IsQuantized(name)) continue;
            count++;
            linearFp32 += p.numel() * 4;
            linearInt8 += bits == 8 ? p.numel() + p.shape[0] * 4 // values + one float32 scale per output channel
                : p.shape[0] * ((p.shape[1] + 31) / 32) * (16 + 4); // per block of 32: 16 bytes of levels + a float32 scale
        }
        // The Linear layers only: the formats keep wte in float32, so it is written as it was.
        if (bits == 8) Int8WeightOnly.Quantize(model.Model, tokenEmbedding: false);
        OutputDirectory.Write(outputDir, tmp =>
        {
            if (bits == 8) model.WriteFiles(tmp);
            else
            {
                Int4Checkpoint.WriteWeights(model.Model, tmp);
                model.WriteTokenizerFiles(tmp, alwaysGeneration: false);
            }
            // Every file that holds no weights comes along unchanged, ours included (config, tokenizer, generation): the
            // copy describes the same model, and keys of a Hugging Face directory that GptSharp does not model survive.
            foreach (var file in Directory.EnumerateFiles(inputDir))
            {
                string name = Path.GetFileName(file);
                if (!Int8Checkpoint.IsWeightsFile(name)) File.Copy(file, Path.Combine(tmp, name), overwrite: true);
            }
        });
        return new QuantizationReport(new FileInfo(Path.Combine(inputDir, source)).Length,
            new FileInfo(Path.Combine(outputDir, bits == 8 ? Int8Checkpoint.WeightsFile : Int4Checkpoint.WeightsFile)).Length, linearFp32, linearInt8, count);
    }

}
