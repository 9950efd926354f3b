using static TorchSharp.torch;

namespace GptSharp.Models;

/// <summary>
/// Keys and values of past positions, per layer, so decoding one token costs one position of work.
/// Storage is allocated once for <see cref="Capacity"/> positions; appends write into it in place.
/// </summary>
public sealed class KvCache : IDisposable
{
    readonly Tensor?[] _keys, _values;

    public KvCache(int layers, int capacity)
    {
        _keys = new Tensor?[layers];
        _values = new Tensor?[layers];
        Capacity = capacity;
    }

    public int Capacity { get; }
    /// <summary>Positions already stored (the same for every layer once a forward pass completes).</summary>
    public int Length { get; private set; }

    /// <summary>Stores <paramref name="k"/>, <paramref name="v"/> ([B, H, T, D]) after the past and returns all keys and values so far.</summary>
    internal (Tensor Keys, Tensor Values) Append(int layer, Tensor k, Tensor v)
    {
        long t = k.shape[2];
        if (Length + t > Capacity)
            throw new GptSharpException($"the KV cache holds {Capacity} positions; {Length} used, {t} more asked");
        if (_keys[layer] is null)
        {
            _keys[layer] = Storage(k);
            _values[layer] = Storage(v);
        }
        var keys = _keys[layer]!;
        var values = _values[layer]!;
        using (no_grad())
        {
            keys.narrow(2, Length, t).copy_(k);
            values.narrow(2, Length, t).copy_(v);
        }
        return (keys.narrow(2, 0, Length + t), values.narrow(2, 0, Length + t));
    }

    /// <summary>Layer <paramref name="layer"/>'s first positions from elsewhere ([B, H, T, D] each); <see cref="Advance"/> by T once every layer has them.</summary>
    internal void Preload(int layer, Tensor keys, Tensor values)
    {
        if (Length != 0 || keys.shape[2] > Capacity) throw new InvalidOperationException("preload an empty cache, within its capacity");
        _keys[layer]?.Dispose();
        _values[layer]?.Dispose();
        _keys[layer] = Storage(keys);
        _values[layer] = Storage(values);
        using (no_grad())
        {
            _keys[layer]!.narrow(2, 0, keys.shape[2]).copy_(keys);
            _values[layer]!.narrow(2, 0, values.shape[2]).copy_(values);
        }
    }

    internal void Advance(int positions) => Length += positions;

    /// <summary>Room for <see cref="Capacity"/> positions of <paramref name="like"/>'s [B, H, ·, D], outliving any dispose scope.</summary>
    Tensor Storage(Tensor like) =>
        zeros([like.shape[0], like.shape[1], Capacity, like.shape[3]], like.dtype, like.device).DetachFromDisposeScope();

    /// <summary>Layer <paramref name="layer"/>'s storage ([B, H, capacity, D]), or null before its first append.</summary>
    internal (Tensor Keys, Tensor Values)? Stored(int layer) => _keys[layer] is { } k ? (k, _values[layer]!) : null;

    /// <summary>
    /// Makes batch row i hold what row <paramref name="index"/>[i] held, for every layer and stored position (beam
    /// search, when beams branch). <paramref name="index"/> is int64 [batch]; rows may repeat or be dropped.
    /// </summary>
    public void Reorder(Tensor index)
    {
        if (index.dim() != 1 || index.dtype != ScalarType.Int64)
            throw new ArgumentException($"the index must be int64 [batch] (got {index.dtype} [{string.Join(", ", index.shape)}])");
        if (Length == 0) return;
        using var noGrad = no_grad();
        foreach (var stored in _keys.Concat(_values))
        {
            if (stored is null) continue;
            if (index.shape[0] != stored.shape[0])
                throw new ArgumentException($"the index has {index.shape[0]} rows; the cache holds {stored.shape[0]}");
            using var used = stored.narrow(2, 0, Length);
            using var reordered = used.index_select(0, index);
            used.copy_(reordered);
        }
    }

    /// <summary>Keeps only the first <paramref name="length"/> positions (e.g. to reuse a shared prompt).</summary>
    public void Truncate(int length) => Length = Math.Clamp(length, 0, Length);

    public void Dispose()
    {
        foreach (var t in _keys.Concat(_values)) t?.Dispose();
        Array.Clear(_keys);
        Array.Clear(_values);
    }
}
