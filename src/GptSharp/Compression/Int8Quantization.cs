using GptSharp.Checkpoints;
using GptSharp.IO;
using GptSharp.Models;
using GptSharp.Models.Quantized;

namespace GptSharp.Compression;

/// <summary>Sizes before and after <see cref="Int8Quantization.QuantizeDirectory"/>, in bytes.</summary>
public sealed record Int8QuantizationReport(
    long OriginalFileBytes, long QuantizedFileBytes, long LinearFloat32Bytes, long LinearInt8Bytes, int QuantizedTensors);

/// <summary>Weight-only int8 quantisation of a model directory (the format: <see cref="Int8Checkpoint"/>).</summary>
public static class Int8Quantization
{
    /// <summary>
    /// Loads <paramref name="inputDir"/>, quantises it (<see cref="Int8WeightOnly.Quantize"/>) and saves it to
    /// <paramref name="outputDir"/> (the int8 weights; every other file that holds no weights copied as it is), replacing the output only once complete. An existing
    /// non-empty output is replaced only when <paramref name="overwrite"/> is set, and never when it holds the input or
    /// the working directory (<see cref="OutputDirectory.Check"/>).
    /// </summary>
    public static Int8QuantizationReport QuantizeDirectory(string inputDir, string outputDir, CancellationToken ct = default, bool overwrite = false)
    {
        if (Path.TrimEndingDirectorySeparator(Path.GetFullPath(inputDir)) == Path.TrimEndingDirectorySeparator(Path.GetFullPath(outputDir)))
            throw new GptSharpException($"--output must differ from --model ({outputDir})");
        OutputDirectory.Check(outputDir, overwrite, "--overwrite", [inputDir]);
        using var model = ModelDirectory.Load(inputDir, new LoadOptions { Precision = InferencePrecision.Float32 });
        ct.ThrowIfCancellationRequested();
        string source = File.Exists(Path.Combine(inputDir, HfCheckpoint.WeightsFile)) ? HfCheckpoint.WeightsFile : Int8Checkpoint.WeightsFile;
        long linearFp32 = 0, linearInt8 = 0;
        int count = 0;
        foreach (var (name, p) in model.Model.named_parameters())
        {
            if (!Int8Checkpoint.IsQuantized(name)) continue;
            count++;
            linearFp32 += p.numel() * 4;
            linearInt8 += p.numel() + p.shape[0] * 4; // values + one float32 scale per output channel
        }
        // The Linear layers only: the format keeps wte in float32, so it is written as it was.
        Int8WeightOnly.Quantize(model.Model, tokenEmbedding: false);
        OutputDirectory.Write(outputDir, tmp =>
        {
            model.WriteFiles(tmp);
            // Every file that holds no weights comes along unchanged, ours included (config, tokenizer, generation): the
            // copy describes the same model, and keys of a Hugging Face directory that GptSharp does not model survive.
            foreach (var file in Directory.EnumerateFiles(inputDir))
            {
                string name = Path.GetFileName(file);
                if (!Int8Checkpoint.IsWeightsFile(name)) File.Copy(file, Path.Combine(tmp, name), overwrite: true);
            }
        });
        return new Int8QuantizationReport(new FileInfo(Path.Combine(inputDir, source)).Length,
            new FileInfo(Path.Combine(outputDir, Int8Checkpoint.WeightsFile)).Length, linearFp32, linearInt8, count);
    }

}
