namespace GptSharp.Checkpoints.Gguf;

/// <summary>
/// The tensor encodings GptSharp writes and reads (ggml's <c>ggml_type</c> numbers). Q8_0 and Q4_0 store blocks of
/// 32 consecutive values of a row (ggml's fastest dimension) behind one fp16 scale.
/// </summary>
public enum GgufTensorType : uint
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q8_0 = 8,
}

/// <summary>Sizes of <see cref="GgufTensorType"/> encodings.</summary>
public static class GgufTensorTypes
{
    /// <summary>Values per block: 1 for plain floats, 32 for the block-quantised types.</summary>
    public static int BlockSize(GgufTensorType type) => type switch
    {
        GgufTensorType.F32 or GgufTensorType.F16 => 1,
        GgufTensorType.Q8_0 => Q8_0Quantizer.BlockSize,
        GgufTensorType.Q4_0 => Q4_0Quantizer.BlockSize,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a GGUF tensor type GptSharp knows"),
    };

    /// <summary>Bytes per block.</summary>
    public static int BlockBytes(GgufTensorType type) => type switch
    {
        GgufTensorType.F32 => 4,
        GgufTensorType.F16 => 2,
        GgufTensorType.Q8_0 => Q8_0Quantizer.BlockBytes,
        GgufTensorType.Q4_0 => Q4_0Quantizer.BlockBytes,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a GGUF tensor type GptSharp knows"),
    };

    public static bool IsKnown(GgufTensorType type) => type is GgufTensorType.F32 or GgufTensorType.F16 or GgufTensorType.Q8_0 or GgufTensorType.Q4_0;

    /// <summary>Bytes of a tensor with ggml dimensions <paramref name="dims"/> (fastest first); its rows must fill whole blocks.</summary>
    public static long ByteCount(GgufTensorType type, IReadOnlyList<long> dims)
    {
        long rowLength = dims.Count == 0 ? 1 : dims[0];
        int block = BlockSize(type);
        if (rowLength % block != 0)
            throw new ArgumentException($"a {type} row must hold a multiple of {block} values, not {rowLength}", nameof(dims));
        long count = dims.Aggregate(1L, (a, d) => checked(a * d));
        return checked(count / block * BlockBytes(type));
    }
}
