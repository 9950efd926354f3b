using GptSharp.Models;

namespace GptSharp.Evaluation;

/// <summary>
/// One model of a comparison: a model directory and how it infers, written <c>DIR</c> or <c>DIR@PRECISION</c>
/// (<c>chat/final@int8</c>), so one directory can appear as fp32 and as int8 side by side. Without a suffix the
/// precision is auto: int8 for a directory made by <c>gptsharp quantize</c>, else fp32.
/// </summary>
public sealed record ComparedModel(string Directory, InferencePrecision Precision)
{
    /// <summary>How the model was named on the command line; the table's column heading.</summary>
    public string Label { get; init; } = Directory;

    /// <summary>
    /// <c>DIR</c> or <c>DIR@PRECISION</c> (auto, fp32, bf16, int8, int4). An existing directory whose name holds an '@' is
    /// taken as it is; otherwise the text after the last '@' must be a precision.
    /// </summary>
    public static ComparedModel Parse(string spec)
    {
        if (string.IsNullOrWhiteSpace(spec)) throw new GptSharpException("--model: an empty model path");
        int at = spec.LastIndexOf('@');
        if (at < 0 || System.IO.Directory.Exists(spec)) return new ComparedModel(spec, InferencePrecision.Auto) { Label = spec };
        string dir = spec[..at];
        if (dir.Length == 0) throw new GptSharpException($"--model {spec}: no directory before '@'");
        InferencePrecision precision;
        try { precision = InferencePrecisionNames.Parse(spec[(at + 1)..]); }
        catch (GptSharpException e) { throw new GptSharpException($"--model {spec}: {e.Message}; write DIR or DIR@PRECISION"); }
        return new ComparedModel(dir, precision) { Label = spec };
    }
}
