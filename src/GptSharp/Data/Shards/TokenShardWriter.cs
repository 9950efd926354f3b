using System.Buffers.Binary;

namespace GptSharp.Data.Shards;

/// <summary>Appends token ids to a new <see cref="TokenShard"/> file; the header's count is filled in on dispose.</summary>
public sealed class TokenShardWriter : IDisposable
{
    readonly FileStream _stream;
    readonly int _bytesPerToken, _vocabSize;
    readonly byte[] _buffer = new byte[1 << 16];
    int _buffered;

    public string Path { get; }
    public long Count { get; private set; }

    public TokenShardWriter(string path, int vocabSize)
    {
        Path = path;
        _vocabSize = vocabSize;
        _bytesPerToken = TokenShard.BytesPerTokenFor(vocabSize);
        _stream = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16);
        TokenShard.WriteHeader(_stream, _bytesPerToken, 0, vocabSize);
    }

    public void Write(ReadOnlySpan<int> ids)
    {
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)_vocabSize)
                throw new GptSharpException($"token id {id} is outside the tokenizer's vocabulary (0..{_vocabSize - 1})");
            if (_buffered + _bytesPerToken > _buffer.Length) Flush();
            if (_bytesPerToken == 2) BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(_buffered), (ushort)id);
            else BinaryPrimitives.WriteUInt32LittleEndian(_buffer.AsSpan(_buffered), (uint)id);
            _buffered += _bytesPerToken;
        }
        Count += ids.Length;
    }

    public void Write(int id) => Write([id]);

    void Flush()
    {
        _stream.Write(_buffer, 0, _buffered);
        _buffered = 0;
    }

    public void Dispose()
    {
        Flush();
        _stream.Position = 0;
        TokenShard.WriteHeader(_stream, _bytesPerToken, Count, _vocabSize);
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
    }
}
