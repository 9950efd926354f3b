namespace GptSharp.Data.Shards;

/// <summary>Writes one split (train or val) as numbered shards of at most <c>shardTokens</c> tokens each.</summary>
internal sealed class SplitWriter(string dir, string split, int vocabSize, long shardTokens) : IDisposable
{
    readonly List<string> _shards = [];
    TokenShardWriter? _current;

    public long Tokens { get; private set; }
    public long Documents { get; private set; }
    public IReadOnlyList<string> Shards => _shards;

    public static string ShardName(string split, int index) => $"{split}-{index:D5}.bin";

    /// <summary>Starts a document: its tokens follow an end-of-text token, which thereby separates it from the one before.</summary>
    public void BeginDocument(int endOfTextId)
    {
        Documents++;
        Write([endOfTextId]);
    }

    public void Write(ReadOnlySpan<int> ids)
    {
        while (!ids.IsEmpty)
        {
            if (_current is null || _current.Count >= shardTokens)
            {
                _current?.Dispose();
                string name = ShardName(split, _shards.Count);
                _current = new TokenShardWriter(Path.Combine(dir, name), vocabSize);
                _shards.Add(name);
            }
            int n = (int)Math.Min(ids.Length, shardTokens - _current.Count);
            _current.Write(ids[..n]);
            ids = ids[n..];
            Tokens += n;
        }
    }

    public DatasetMeta.SplitInfo Info => new(Tokens, Documents, _shards.ToArray());

    public void Dispose()
    {
        _current?.Dispose();
        _current = null;
    }
}
