namespace GptSharp.Checkpoints.Gguf;

/// <summary>
/// A GGUF file's header as <see cref="GgufReader"/> read it: metadata (in file order), tensor infos, and where the
/// data lies. Tensor data is read on demand.
/// </summary>
public sealed class GgufFile
{
    internal GgufFile(string path, uint version, IReadOnlyList<KeyValuePair<string, GgufValue>> metadata, IReadOnlyList<GgufTensorInfo> tensors,
        int alignment, long dataOffset)
    {
        (Path, Version, MetadataInOrder, Tensors, Alignment, DataOffset) = (path, version, metadata, tensors, alignment, dataOffset);
        Metadata = metadata.ToDictionary(kv => kv.Key, kv => kv.Value);
    }

    public string Path { get; }
    public uint Version { get; }
    public IReadOnlyList<KeyValuePair<string, GgufValue>> MetadataInOrder { get; }
    public IReadOnlyDictionary<string, GgufValue> Metadata { get; }
    public IReadOnlyList<GgufTensorInfo> Tensors { get; }
    public int Alignment { get; }

    /// <summary>Where the data section starts, from the start of the file.</summary>
    public long DataOffset { get; }

    public GgufTensorInfo Tensor(string name) =>
        Tensors.FirstOrDefault(t => t.Name == name) ?? throw new GptSharpException($"{Path}: no tensor '{name}'");

    /// <summary>A tensor's bytes as stored.</summary>
    public byte[] ReadBytes(string name)
    {
        var info = Tensor(name);
        var bytes = new byte[info.ByteCount];
        using var f = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read);
        f.Position = DataOffset + info.Offset;
        f.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>A tensor's values as floats, in ggml order (row by row, fastest dimension first), decoded from its type.</summary>
    public float[] ReadFloats(string name)
    {
        var info = Tensor(name);
        byte[] bytes = ReadBytes(name);
        return info.Type switch
        {
            GgufTensorType.F32 => [.. System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(bytes)],
            GgufTensorType.F16 => [.. System.Runtime.InteropServices.MemoryMarshal.Cast<byte, Half>(bytes).ToArray().Select(h => (float)h)],
            GgufTensorType.Q8_0 => Q8_0Quantizer.Dequantize(bytes),
            GgufTensorType.Q4_0 => Q4_0Quantizer.Dequantize(bytes),
            _ => throw new GptSharpException($"{Path}: tensor '{name}' has type {info.Type}, which GptSharp cannot decode"),
        };
    }
}
