using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using static TorchSharp.torch;
using GptSharp.IO;

namespace GptSharp.Checkpoints;

/// <summary>
/// The safetensors format: an 8-byte little-endian header length, a JSON header of
/// <c>name → {dtype, shape, data_offsets}</c> (plus optional <c>__metadata__</c>), then the raw little-endian data.
/// Hand-written because no maintained .NET package on our feed reads it into TorchSharp tensors.
/// </summary>
public static class SafeTensors
{
    static readonly Dictionary<string, ScalarType> DTypes = new()
    {
        ["F32"] = ScalarType.Float32, ["F16"] = ScalarType.Float16, ["BF16"] = ScalarType.BFloat16, ["F64"] = ScalarType.Float64,
        ["I64"] = ScalarType.Int64, ["I32"] = ScalarType.Int32, ["I16"] = ScalarType.Int16, ["I8"] = ScalarType.Int8,
        ["U8"] = ScalarType.Byte, ["BOOL"] = ScalarType.Bool,
    };

    /// <summary>Reads every tensor (on the CPU, in its stored dtype). Throws <see cref="GptSharpException"/> on a malformed file.</summary>
    public static Dictionary<string, Tensor> Read(string path, Func<string, bool>? include = null)
    {
        using var f = OpenRead(path);
        long fileLength = f.Length;
        Span<byte> lenBytes = stackalloc byte[8];
        if (f.Read(lenBytes) != 8) throw Bad(path, "file is shorter than the 8-byte header length");
        ulong headerLen = BinaryPrimitives.ReadUInt64LittleEndian(lenBytes);
        if (headerLen < 2 || headerLen > (ulong)(fileLength - 8) || headerLen > 100_000_000)
            throw Bad(path, $"header length {headerLen} does not fit a {fileLength}-byte file");
        var headerBytes = new byte[headerLen];
        f.ReadExactly(headerBytes);
        JsonObject header;
        try { header = JsonNode.Parse(headerBytes)?.AsObject() ?? throw Bad(path, "header is not a JSON object"); }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { throw Bad(path, $"header is not valid JSON ({e.Message})"); }

        long dataStart = 8 + (long)headerLen, dataLength = fileLength - dataStart;
        var entries = new List<(string Name, ScalarType Type, long[] Shape, long Begin, long End)>();
        foreach (var (name, node) in header)
        {
            if (name == "__metadata__") continue;
            try
            {
                string dt = node!["dtype"]!.GetValue<string>();
                if (!DTypes.TryGetValue(dt, out var type)) throw Bad(path, $"tensor '{name}' has unsupported dtype {dt}");
                long[] shape = node["shape"]!.AsArray().Select(s => s!.GetValue<long>()).ToArray();
                var offs = node["data_offsets"]!.AsArray();
                long begin = offs[0]!.GetValue<long>(), end = offs[1]!.GetValue<long>();
                long bytes = shape.Aggregate(1L, (a, b) => a * b) * ElementSize(type);
                if (shape.Any(s => s < 0) || begin < 0 || end < begin || end > dataLength || end - begin != bytes)
                    throw Bad(path, $"tensor '{name}' has offsets [{begin}, {end}] that do not match its shape [{string.Join(", ", shape)}] or the file size");
                entries.Add((name, type, shape, begin, end));
            }
            catch (Exception e) when (e is NullReferenceException or InvalidOperationException or FormatException)
            {
                throw Bad(path, $"tensor '{name}' has a malformed header entry");
            }
        }

        var result = new Dictionary<string, Tensor>();
        try
        {
            foreach (var e in entries.OrderBy(e => e.Begin))
            {
                if (include is not null && !include(e.Name)) continue;
                var t = empty(e.Shape, e.Type);
                f.Position = dataStart + e.Begin;
                if (e.End > e.Begin) f.ReadExactly(t.bytes);
                result[e.Name] = t;
            }
        }
        catch
        {
            foreach (var t in result.Values) t.Dispose();
            throw;
        }
        return result;
    }

    /// <summary>Writes tensors in name order, atomically (temporary sibling, then rename).</summary>
    public static void Write(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var items = tensors.OrderBy(t => t.Key, StringComparer.Ordinal).ToList();
        var header = new JsonObject { ["__metadata__"] = new JsonObject((metadata ?? new Dictionary<string, string> { ["format"] = "pt" })
            .Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value)))) };
        long offset = 0;
        foreach (var (name, t) in items)
        {
            string dt = DTypes.FirstOrDefault(kv => kv.Value == t.dtype).Key ?? throw new GptSharpException($"cannot store dtype {t.dtype} in safetensors");
            long bytes = t.numel() * ElementSize(t.dtype);
            header[name] = new JsonObject
            {
                ["dtype"] = dt,
                ["shape"] = new JsonArray(t.shape.Select(s => (JsonNode?)JsonValue.Create(s)).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + bytes),
            };
            offset += bytes;
        }
        byte[] json = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (json.Length + 7) / 8 * 8;

        AtomicFile.Write(path, f =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)padded);
            f.Write(len);
            f.Write(json);
            for (int i = json.Length; i < padded; i++) f.WriteByte((byte)' ');
            foreach (var (_, t) in items)
            {
                using var cpu = t.detach().cpu().contiguous();
                f.Write(cpu.bytes);
            }
        });
    }

    static FileStream OpenRead(string path)
    {
        try { return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20); }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new GptSharpException($"{path}: file not found");
        }
    }

    static long ElementSize(ScalarType t) => t switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.Float16 or ScalarType.BFloat16 or ScalarType.Int16 => 2,
        _ => 1,
    };

    static GptSharpException Bad(string path, string what) => new($"{path}: not a valid safetensors file: {what}");
}
