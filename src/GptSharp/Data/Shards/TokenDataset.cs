namespace GptSharp.Data.Shards;

/// <summary>
/// One split of a data directory: its shards, memory-mapped and read as a single sequence of tokens.
/// </summary>
public sealed class TokenDataset : IDisposable
{
    readonly TokenShard[] _shards;
    readonly long[] _starts; // global index of each shard's first token

    public DatasetMeta Meta { get; }
    public string Split { get; }
    public long Count { get; }

    TokenDataset(DatasetMeta meta, string split, TokenShard[] shards)
    {
        Meta = meta;
        Split = split;
        _shards = shards;
        _starts = new long[shards.Length];
        for (int i = 0; i < shards.Length; i++)
        {
            _starts[i] = Count;
            Count += shards[i].Count;
        }
    }

    /// <summary>Opens the "train" or "val" split of a directory written by <see cref="DataPreparer"/>.</summary>
    public static TokenDataset Open(string dataDir, string split)
    {
        var meta = DatasetMeta.Read(dataDir);
        var info = meta.Split(split);
        var shards = new List<TokenShard>();
        try
        {
            foreach (var name in info.Shards)
            {
                var shard = TokenShard.Open(Path.Combine(dataDir, name));
                shards.Add(shard);
                if (shard.VocabSize != meta.VocabSize)
                    throw new GptSharpException($"{shard.Path}: written for a vocabulary of {shard.VocabSize}, but meta.json says {meta.VocabSize}");
            }
            var dataset = new TokenDataset(meta, split, shards.ToArray());
            if (dataset.Count != info.Tokens)
                throw new GptSharpException($"{dataDir}: the {split} shards hold {dataset.Count} tokens but meta.json says {info.Tokens}");
            return dataset;
        }
        catch
        {
            foreach (var s in shards) s.Dispose();
            throw;
        }
    }

    /// <summary>Copies tokens [start, start + destination.Length), which may span shards.</summary>
    public void CopyTo(long start, Span<long> destination)
    {
        if (start < 0 || start + destination.Length > Count) throw new ArgumentOutOfRangeException(nameof(start));
        int shard = Array.BinarySearch(_starts, start);
        if (shard < 0) shard = ~shard - 1;
        while (!destination.IsEmpty)
        {
            while (start - _starts[shard] >= _shards[shard].Count) shard++; // skip empty shards
            long offset = start - _starts[shard];
            int n = (int)Math.Min(destination.Length, _shards[shard].Count - offset);
            _shards[shard].CopyTo(offset, destination[..n]);
            destination = destination[n..];
            start += n;
        }
    }

    public void Dispose()
    {
        foreach (var s in _shards) s.Dispose();
    }
}
