using System.Text;

namespace GptSharp.Checkpoints.Gguf;

/// <summary>
/// Reads a GGUF header (<see cref="GgufFormat"/>) and checks it: magic, version, every length against the file's size,
/// tensor types GptSharp knows, and tensor offsets that are aligned, in bounds and do not overlap.
/// </summary>
public static class GgufReader
{
    const int MaxCount = 10_000_000;

    public static GgufFile Read(string path)
    {
        FileStream f;
        try { f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { throw new GptSharpException($"{path}: file not found"); }
        using (f)
        using (var r = new BinaryReader(f, Encoding.UTF8))
        {
            try { return Read(path, f, r); }
            catch (EndOfStreamException) { throw Bad(path, "the file ends inside its header"); }
        }
    }

    static GgufFile Read(string path, FileStream f, BinaryReader r)
    {
        if (f.Length < 24 || r.ReadUInt32() != GgufFormat.Magic) throw Bad(path, "it does not start with \"GGUF\"");
        uint version = r.ReadUInt32();
        if (version is < 2 or > GgufFormat.Version) throw Bad(path, $"version {version} is not supported (2 or 3)");
        ulong tensorCount = r.ReadUInt64(), kvCount = r.ReadUInt64();
        if (tensorCount > MaxCount || kvCount > MaxCount) throw Bad(path, $"implausible counts ({tensorCount} tensors, {kvCount} metadata entries)");

        var metadata = new List<KeyValuePair<string, GgufValue>>();
        var keys = new HashSet<string>();
        for (ulong i = 0; i < kvCount; i++)
        {
            string key = ReadString(path, f, r);
            if (!keys.Add(key)) throw Bad(path, $"metadata key '{key}' appears twice");
            var type = (GgufValueType)r.ReadUInt32();
            metadata.Add(new(key, ReadValue(path, f, r, type, key)));
        }
        int alignment = GgufFormat.DefaultAlignment;
        if (metadata.FirstOrDefault(kv => kv.Key == GgufFormat.AlignmentKey).Value is { } a)
        {
            long v = a.Type == GgufValueType.UInt32 ? a.AsInteger() : throw Bad(path, $"{GgufFormat.AlignmentKey} must be a uint32");
            if (v <= 0 || v % 8 != 0 || v > 1 << 20) throw Bad(path, $"{GgufFormat.AlignmentKey} {v} is not a positive multiple of 8");
            alignment = (int)v;
        }

        var tensors = new List<GgufTensorInfo>();
        var names = new HashSet<string>();
        for (ulong i = 0; i < tensorCount; i++)
        {
            string name = ReadString(path, f, r);
            if (!names.Add(name)) throw Bad(path, $"tensor '{name}' appears twice");
            uint nDims = r.ReadUInt32();
            if (nDims is 0 or > 4) throw Bad(path, $"tensor '{name}' has {nDims} dimensions (1 to 4)");
            var dims = new long[nDims];
            for (int d = 0; d < nDims; d++)
            {
                ulong n = r.ReadUInt64();
                if (n is 0 or > long.MaxValue / 1024) throw Bad(path, $"tensor '{name}' has dimension {n}");
                dims[d] = (long)n;
            }
            var type = (GgufTensorType)r.ReadUInt32();
            if (!GgufTensorTypes.IsKnown(type)) throw Bad(path, $"tensor '{name}' has ggml type {(uint)type}, which GptSharp does not read (F32, F16, Q8_0, Q4_0)");
            ulong offset = r.ReadUInt64();
            if (offset > long.MaxValue || (long)offset % alignment != 0) throw Bad(path, $"tensor '{name}' has offset {offset}, not a multiple of the alignment {alignment}");
            if (dims[0] % GgufTensorTypes.BlockSize(type) != 0) throw Bad(path, $"tensor '{name}' has rows of {dims[0]} values, not whole {type} blocks");
            tensors.Add(new GgufTensorInfo(name, dims, type, (long)offset));
        }

        long dataOffset = GgufFormat.Align(f.Position, alignment);
        long end = 0;
        foreach (var t in tensors.OrderBy(t => t.Offset))
        {
            if (t.Offset < end) throw Bad(path, $"tensor '{t.Name}' overlaps the tensor before it");
            end = t.Offset + t.ByteCount;
            if (dataOffset + end > f.Length) throw Bad(path, $"tensor '{t.Name}' runs past the end of the file ({f.Length} bytes)");
        }
        return new GgufFile(path, version, metadata, tensors, alignment, dataOffset);
    }

    static GgufValue ReadValue(string path, FileStream f, BinaryReader r, GgufValueType type, string key)
    {
        if (type != GgufValueType.Array) return new GgufValue(type, ReadScalar(path, f, r, type, key));
        var elementType = (GgufValueType)r.ReadUInt32();
        ulong n = r.ReadUInt64();
        if (elementType == GgufValueType.Array) throw Bad(path, $"'{key}' is an array of arrays, which GptSharp does not read");
        if (n > (ulong)(f.Length - f.Position)) throw Bad(path, $"'{key}' claims {n} elements, more than the file holds");
        Array items = elementType switch
        {
            GgufValueType.UInt8 => new byte[n], GgufValueType.Int8 => new sbyte[n], GgufValueType.UInt16 => new ushort[n],
            GgufValueType.Int16 => new short[n], GgufValueType.UInt32 => new uint[n], GgufValueType.Int32 => new int[n],
            GgufValueType.UInt64 => new ulong[n], GgufValueType.Int64 => new long[n], GgufValueType.Float32 => new float[n],
            GgufValueType.Float64 => new double[n], GgufValueType.Bool => new bool[n], GgufValueType.String => new string[n],
            _ => throw Bad(path, $"'{key}' has array element type {(uint)elementType}"),
        };
        for (long i = 0; i < (long)n; i++) items.SetValue(ReadScalar(path, f, r, elementType, key), i);
        return new GgufValue(GgufValueType.Array, items, elementType);
    }

    static object ReadScalar(string path, FileStream f, BinaryReader r, GgufValueType type, string key) => type switch
    {
        GgufValueType.UInt8 => r.ReadByte(),
        GgufValueType.Int8 => r.ReadSByte(),
        GgufValueType.UInt16 => r.ReadUInt16(),
        GgufValueType.Int16 => r.ReadInt16(),
        GgufValueType.UInt32 => r.ReadUInt32(),
        GgufValueType.Int32 => r.ReadInt32(),
        GgufValueType.UInt64 => r.ReadUInt64(),
        GgufValueType.Int64 => r.ReadInt64(),
        GgufValueType.Float32 => r.ReadSingle(),
        GgufValueType.Float64 => r.ReadDouble(),
        GgufValueType.Bool => r.ReadByte() switch { 0 => false, 1 => true, var b => throw Bad(path, $"'{key}' has bool byte {b}") },
        GgufValueType.String => ReadString(path, f, r),
        _ => throw Bad(path, $"'{key}' has value type {(uint)type}"),
    };

    static string ReadString(string path, FileStream f, BinaryReader r)
    {
        ulong n = r.ReadUInt64();
        if (n > (ulong)(f.Length - f.Position)) throw Bad(path, $"a string of {n} bytes runs past the end of the file");
        byte[] bytes = r.ReadBytes((int)n);
        try { return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes); }
        catch (DecoderFallbackException) { throw Bad(path, "a string is not valid UTF-8"); }
    }

    static GptSharpException Bad(string path, string what) => new($"{path}: not a valid GGUF file: {what}");
}
