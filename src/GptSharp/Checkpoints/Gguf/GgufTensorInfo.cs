namespace GptSharp.Checkpoints.Gguf;

/// <summary>
/// A tensor's entry in a GGUF header. <see cref="Dims"/> are ggml's <c>ne</c>, fastest-varying first: the reverse of
/// PyTorch's shape (a Linear weight <c>[out, in]</c> is <c>ne = [in, out]</c>). <see cref="Offset"/> counts from the start
/// of the data section.
/// </summary>
public sealed record GgufTensorInfo(string Name, long[] Dims, GgufTensorType Type, long Offset)
{
    /// <summary>The shape as PyTorch writes it (slowest dimension first).</summary>
    public long[] Shape => [.. Dims.Reverse()];

    public long ElementCount => Dims.Aggregate(1L, (a, d) => a * d);

    public long ByteCount => GgufTensorTypes.ByteCount(Type, Dims);
}
