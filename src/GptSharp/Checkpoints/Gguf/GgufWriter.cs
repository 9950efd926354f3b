using System.Text;
using GptSharp.IO;

namespace GptSharp.Checkpoints.Gguf;

/// <summary>
/// Builds a GGUF file (<see cref="GgufFormat"/>): metadata in the order added, then tensor infos, then each tensor's
/// data, aligned. Tensor data is produced only while writing, one tensor at a time, so a large model never sits in
/// memory twice.
/// </summary>
public sealed class GgufWriter
{
    readonly List<KeyValuePair<string, GgufValue>> _metadata = [];
    readonly List<(GgufTensorInfo Info, Func<byte[]> Data)> _tensors = [];
    long _dataBytes;

    public int Alignment { get; }

    public GgufWriter(int alignment = GgufFormat.DefaultAlignment)
    {
        if (alignment <= 0 || alignment % 8 != 0) throw new ArgumentOutOfRangeException(nameof(alignment), "the alignment must be a positive multiple of 8");
        Alignment = alignment;
        if (alignment != GgufFormat.DefaultAlignment) Add(GgufFormat.AlignmentKey, GgufValue.Of((uint)alignment));
    }

    public IReadOnlyList<KeyValuePair<string, GgufValue>> Metadata => _metadata;
    public IEnumerable<GgufTensorInfo> Tensors => _tensors.Select(t => t.Info);

    public void Add(string key, GgufValue value)
    {
        if (_metadata.Any(kv => kv.Key == key)) throw new ArgumentException($"metadata key '{key}' added twice", nameof(key));
        if (value.Type == GgufValueType.Array && value.ElementType == GgufValueType.Array)
            throw new ArgumentException("nested arrays are not supported", nameof(value));
        _metadata.Add(new(key, value));
    }

    /// <summary>
    /// Adds a tensor with ggml dimensions <paramref name="dims"/> (fastest first); <paramref name="data"/> is called
    /// once, when the file is written, and must return exactly the encoded bytes.
    /// </summary>
    public void AddTensor(string name, long[] dims, GgufTensorType type, Func<byte[]> data)
    {
        if (_tensors.Any(t => t.Info.Name == name)) throw new ArgumentException($"tensor '{name}' added twice", nameof(name));
        if (dims.Length is 0 or > 4 || dims.Any(d => d <= 0)) throw new ArgumentException($"tensor '{name}': ggml tensors have 1 to 4 positive dimensions", nameof(dims));
        var info = new GgufTensorInfo(name, [.. dims], type, GgufFormat.Align(_dataBytes, Alignment));
        _dataBytes = info.Offset + info.ByteCount;
        _tensors.Add((info, data));
    }

    public void AddTensor(string name, long[] dims, GgufTensorType type, byte[] data) => AddTensor(name, dims, type, () => data);

    /// <summary>Writes the file atomically (a temporary sibling renamed into place): a failure leaves nothing behind.</summary>
    public void Write(string path)
    {
        AtomicFile.DeleteStaleTemporaries(path);
        AtomicFile.Write(path, WriteTo);
    }

    public void WriteTo(Stream stream)
    {
        using var w = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
        long start = stream.Position;
        w.Write(GgufFormat.Magic);
        w.Write(GgufFormat.Version);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_metadata.Count);
        foreach (var (key, value) in _metadata)
        {
            WriteString(w, key);
            w.Write((uint)value.Type);
            WriteValue(w, value);
        }
        foreach (var (info, _) in _tensors)
        {
            WriteString(w, info.Name);
            w.Write((uint)info.Dims.Length);
            foreach (long d in info.Dims) w.Write((ulong)d);
            w.Write((uint)info.Type);
            w.Write((ulong)info.Offset);
        }
        Pad(w, stream.Position - start);
        long dataStart = stream.Position;
        foreach (var (info, data) in _tensors)
        {
            Pad(w, stream.Position - dataStart);
            byte[] bytes = data();
            if (bytes.Length != info.ByteCount)
                throw new InvalidOperationException($"tensor '{info.Name}': {bytes.Length} bytes given, {info.ByteCount} expected for {info.Type} [{string.Join(", ", info.Dims)}]");
            w.Write(bytes);
        }
        w.Flush();
    }

    void Pad(BinaryWriter w, long written)
    {
        for (long i = written; i < GgufFormat.Align(written, Alignment); i++) w.Write((byte)0);
    }

    static void WriteString(BinaryWriter w, string s)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(s);
        w.Write((ulong)bytes.Length);
        w.Write(bytes);
    }

    static void WriteValue(BinaryWriter w, GgufValue value)
    {
        if (value.Type != GgufValueType.Array)
        {
            WriteScalar(w, value.Type, value.Value);
            return;
        }
        var items = (Array)value.Value;
        w.Write((uint)value.ElementType);
        w.Write((ulong)items.Length);
        foreach (var item in items) WriteScalar(w, value.ElementType, item!);
    }

    static void WriteScalar(BinaryWriter w, GgufValueType type, object v)
    {
        switch (type)
        {
            case GgufValueType.UInt8: w.Write(Convert.ToByte(v)); break;
            case GgufValueType.Int8: w.Write(Convert.ToSByte(v)); break;
            case GgufValueType.UInt16: w.Write(Convert.ToUInt16(v)); break;
            case GgufValueType.Int16: w.Write(Convert.ToInt16(v)); break;
            case GgufValueType.UInt32: w.Write(Convert.ToUInt32(v)); break;
            case GgufValueType.Int32: w.Write(Convert.ToInt32(v)); break;
            case GgufValueType.UInt64: w.Write(Convert.ToUInt64(v)); break;
            case GgufValueType.Int64: w.Write(Convert.ToInt64(v)); break;
            case GgufValueType.Float32: w.Write(Convert.ToSingle(v)); break;
            case GgufValueType.Float64: w.Write(Convert.ToDouble(v)); break;
            case GgufValueType.Bool: w.Write((bool)v ? (byte)1 : (byte)0); break;
            case GgufValueType.String: WriteString(w, (string)v); break;
            default: throw new ArgumentException($"cannot write a {type} value here");
        }
    }
}
