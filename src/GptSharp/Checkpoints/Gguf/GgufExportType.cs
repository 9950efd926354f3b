namespace GptSharp.Checkpoints.Gguf;

/// <summary>What <c>gptsharp export --format gguf --type</c> writes the weight matrices as.</summary>
public enum GgufExportType
{
    F32,
    F16,
    Q8_0,
    Q4_0,
}

/// <summary>Names and llama.cpp's <c>general.file_type</c> numbers of <see cref="GgufExportType"/>.</summary>
public static class GgufExportTypes
{
    static readonly string[] names = ["f32", "f16", "q8_0", "q4_0"];

    public static IReadOnlyList<string> Names => names;

    public static string Name(this GgufExportType type) => names[(int)type];

    public static GgufExportType Parse(string name) =>
        Array.IndexOf(names, name.ToLowerInvariant()) is var i and >= 0 ? (GgufExportType)i
        : throw new GptSharpException($"unknown GGUF type '{name}'; expected one of {string.Join(", ", Names)}");

    /// <summary>llama.cpp's <c>llama_ftype</c>: ALL_F32 0, MOSTLY_F16 1, MOSTLY_Q4_0 2, MOSTLY_Q8_0 7.</summary>
    public static uint FileType(this GgufExportType type) => type switch
    {
        GgufExportType.F32 => 0,
        GgufExportType.F16 => 1,
        GgufExportType.Q4_0 => 2,
        GgufExportType.Q8_0 => 7,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    /// <summary>The encoding of a weight matrix (never of 1-D tensors, which stay F32).</summary>
    public static GgufTensorType MatrixType(this GgufExportType type) => type switch
    {
        GgufExportType.F32 => GgufTensorType.F32,
        GgufExportType.F16 => GgufTensorType.F16,
        GgufExportType.Q8_0 => GgufTensorType.Q8_0,
        GgufExportType.Q4_0 => GgufTensorType.Q4_0,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };
}
