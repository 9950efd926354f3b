using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Text;

namespace GptSharp.Data.Shards;

/// <summary>
/// One binary file of token ids. Layout (all little-endian):
/// <code>
/// offset  size  field
///      0     8  magic "GPTSHARD"
///      8     4  format version (1)
///     12     4  bytes per token: 2 (uint16, vocabularies up to 65,536) or 4 (uint32)
///     16     8  token count N
///     24     4  vocabulary size of the tokenizer that wrote it
///     28     4  reserved (0)
///     32   N·w  the token ids
/// </code>
/// Readers memory-map the file, so a shard of any size costs no managed memory.
/// </summary>
public sealed unsafe class TokenShard : IDisposable
{
    public const int HeaderBytes = 32;
    public const int FormatVersion = 1;
    static ReadOnlySpan<byte> Magic => "GPTSHARD"u8;

    readonly MemoryMappedFile _file;
    readonly MemoryMappedViewAccessor _view;
    readonly byte* _tokens;

    public string Path { get; }
    public long Count { get; }
    /// <summary>2 or 4.</summary>
    public int BytesPerToken { get; }
    public int VocabSize { get; }

    /// <summary>The narrowest token width that holds every id of a vocabulary.</summary>
    public static int BytesPerTokenFor(int vocabSize) => vocabSize <= 1 << 16 ? 2 : 4;

    TokenShard(string path)
    {
        Path = path;
        if (!File.Exists(path)) throw new GptSharpException($"{path}: token shard not found");
        long length = new FileInfo(path).Length;
        if (length < HeaderBytes) throw Bad("file is shorter than the 32-byte header");

        _file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, mapName: null, 0, MemoryMappedFileAccess.Read);
        _view = _file.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
        byte* start = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
        start += _view.PointerOffset;
        try
        {
            var header = new ReadOnlySpan<byte>(start, HeaderBytes);
            if (!header[..8].SequenceEqual(Magic)) throw Bad("not a token shard (bad magic)");
            int version = BinaryPrimitives.ReadInt32LittleEndian(header[8..]);
            if (version != FormatVersion) throw Bad($"unsupported format version {version} (expected {FormatVersion})");
            BytesPerToken = BinaryPrimitives.ReadInt32LittleEndian(header[12..]);
            if (BytesPerToken is not (2 or 4)) throw Bad($"unsupported token width {BytesPerToken}");
            Count = BinaryPrimitives.ReadInt64LittleEndian(header[16..]);
            VocabSize = BinaryPrimitives.ReadInt32LittleEndian(header[24..]);
            if (Count < 0 || HeaderBytes + Count * BytesPerToken != length)
                throw Bad($"header says {Count} tokens but the file holds {(length - HeaderBytes) / BytesPerToken}");
        }
        catch
        {
            Dispose();
            throw;
        }
        _tokens = start + HeaderBytes;
    }

    /// <summary>Maps a shard for reading; throws <see cref="GptSharpException"/> naming the file if it is not a valid shard.</summary>
    public static TokenShard Open(string path) => new(path);

    public int this[long index] =>
        (ulong)index < (ulong)Count ? Read(index) : throw new ArgumentOutOfRangeException(nameof(index));

    int Read(long i) => BytesPerToken == 2
        ? BinaryPrimitives.ReadUInt16LittleEndian(new ReadOnlySpan<byte>(_tokens + 2 * i, 2))
        : (int)BinaryPrimitives.ReadUInt32LittleEndian(new ReadOnlySpan<byte>(_tokens + 4 * i, 4));

    /// <summary>Copies tokens [start, start + destination.Length) into <paramref name="destination"/>.</summary>
    public void CopyTo(long start, Span<long> destination)
    {
        if (start < 0 || start + destination.Length > Count) throw new ArgumentOutOfRangeException(nameof(start));
        for (int i = 0; i < destination.Length; i++) destination[i] = Read(start + i);
    }

    GptSharpException Bad(string what) => new($"{Path}: invalid token shard: {what}");

    public void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }

    /// <summary>Writes the 32-byte header.</summary>
    internal static void WriteHeader(Stream stream, int bytesPerToken, long count, int vocabSize)
    {
        Span<byte> h = stackalloc byte[HeaderBytes];
        h.Clear();
        Magic.CopyTo(h);
        BinaryPrimitives.WriteInt32LittleEndian(h[8..], FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(h[12..], bytesPerToken);
        BinaryPrimitives.WriteInt64LittleEndian(h[16..], count);
        BinaryPrimitives.WriteInt32LittleEndian(h[24..], vocabSize);
        stream.Write(h);
    }
}
