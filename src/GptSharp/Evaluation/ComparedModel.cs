using GptSharp.Checkpoints;
using GptSharp.Models;

namespace GptSharp.Evaluation;

/// <summary>
/// One model of a comparison: a model directory and how it infers, written <c>DIR</c>, <c>DIR@PRECISION</c>
/// (<c>chat/final@int8</c>) or <c>DIR@ENGINE-PRECISION</c> (<c>chat/final@onnx-bf16</c>), so one directory can appear as
/// fp32 and as int8, or on both decoding engines, side by side. Without a suffix the precision is auto (int8 or int4 for
/// a directory made by <c>gptsharp quantize</c>, else fp32) and so is the engine (see <see cref="DecodingEngineKind.Auto"/>).
/// </summary>
public sealed record ComparedModel(string Directory, InferencePrecision Precision)
{
    /// <summary>What decodes it: torch, onnx, or auto (the default).</summary>
    public DecodingEngineKind Engine { get; init; } = DecodingEngineKind.Auto;

    /// <summary>How the model was named on the command line; the table's column heading.</summary>
    public string Label { get; init; } = Directory;

    /// <summary>
    /// <c>DIR</c>, <c>DIR@PRECISION</c> (auto, fp32, bf16, int8, int4) or <c>DIR@ENGINE-PRECISION</c> (torch, onnx or auto,
    /// then a precision). An existing directory whose name holds an '@' is taken as it is; otherwise the text after the
    /// last '@' must be one of those.
    /// </summary>
    public static ComparedModel Parse(string spec)
    {
        if (string.IsNullOrWhiteSpace(spec)) throw new GptSharpException("--model: an empty model path");
        int at = spec.LastIndexOf('@');
        if (at < 0 || System.IO.Directory.Exists(spec)) return new ComparedModel(spec, InferencePrecision.Auto) { Label = spec };
        string dir = spec[..at];
        if (dir.Length == 0) throw new GptSharpException($"--model {spec}: no directory before '@'");
        string suffix = spec[(at + 1)..];
        int dash = suffix.IndexOf('-');
        try
        {
            var engine = dash < 0 ? DecodingEngineKind.Auto : DecodingEngineNames.Parse(suffix[..dash]);
            var precision = InferencePrecisionNames.Parse(suffix[(dash + 1)..]);
            DecodingEngineNames.Resolve(engine, precision); // an impossible pair (torch-int4) fails here, before any model loads
            return new ComparedModel(dir, precision) { Label = spec, Engine = engine };
        }
        catch (GptSharpException e) { throw new GptSharpException($"--model {spec}: {e.Message}; write DIR, DIR@PRECISION or DIR@ENGINE-PRECISION"); }
    }
}
