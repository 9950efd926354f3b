using static TorchSharp.torch;

namespace GptSharp.Models;

/// <summary>
/// The KV cache of a batch of sequences that come and go (continuous batching): one slot per sequence in a single
/// tensor per layer ([slots, H, capacity, D]), so a decoding step writes every sequence's new keys in one operation and
/// attends for all of them in one more. Slots in use are always 0..<see cref="Count"/>-1: freeing one moves the last
/// into its place. Storage grows (doubling) as sequences get longer, up to the model's context.
/// </summary>
public sealed class KvSlots : IDisposable
{
    readonly Tensor?[] _keys, _values;
    readonly SlotLengths _lengths;
    readonly int _maxCapacity;

    /// <param name="capacity">Positions allocated at first; grows as needed up to <paramref name="maxCapacity"/>.</param>
    public KvSlots(int layers, int slots, int capacity, int maxCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(slots);
        _keys = new Tensor?[layers];
        _values = new Tensor?[layers];
        _lengths = new SlotLengths(slots);
        _maxCapacity = maxCapacity;
        Capacity = Math.Min(Math.Max(1, capacity), maxCapacity);
    }

    public int Slots => _lengths.Slots;
    /// <summary>Slots in use: 0..Count-1.</summary>
    public int Count => _lengths.Count;
    /// <summary>Positions each slot can hold now (<see cref="Reserve"/> grows it).</summary>
    public int Capacity { get; private set; }

    /// <summary>Positions stored in <paramref name="slot"/>.</summary>
    public int Length(int slot) => _lengths[slot];

    /// <summary>A new empty slot (the next free index).</summary>
    public int Add() => _lengths.Add();

    /// <summary>Frees <paramref name="slot"/>; the last slot in use moves into its place. Returns the index that moved (or -1 when none did).</summary>
    public int Remove(int slot)
    {
        int last = _lengths.Remove(slot);
        if (last < 0) return -1;
        int length = _lengths[slot]; // the moved slot's
        if (length > 0)
        {
            using var _ = no_grad();
            foreach (var t in _keys.Concat(_values))
            {
                if (t is null) continue;
                using var from = t[last].narrow(1, 0, length);
                using var to = t[slot].narrow(1, 0, length);
                to.copy_(from);
            }
        }
        return last;
    }

    /// <summary>Keeps the first <paramref name="length"/> positions of <paramref name="slot"/>.</summary>
    public void Truncate(int slot, int length) => _lengths[slot] = Math.Clamp(length, 0, _lengths[slot]);

    /// <summary>Makes room for <paramref name="positions"/> in every slot, doubling the storage as needed.</summary>
    public void Reserve(int positions)
    {
        if (positions <= Capacity) return;
        if (positions > _maxCapacity) throw new GptSharpException($"the KV cache holds at most {_maxCapacity} positions; {positions} asked");
        int grown = Capacity;
        while (grown < positions) grown = Math.Min(_maxCapacity, grown * 2);
        using var _ = no_grad();
        for (int layer = 0; layer < _keys.Length; layer++)
        {
            _keys[layer] = Grow(_keys[layer], grown);
            _values[layer] = Grow(_values[layer], grown);
        }
        Capacity = grown;
    }

    Tensor? Grow(Tensor? old, int capacity)
    {
        if (old is null) return null;
        var grown = zeros([old.shape[0], old.shape[1], capacity, old.shape[3]], old.dtype, old.device).DetachFromDisposeScope();
        using (var to = grown.narrow(2, 0, Capacity)) to.copy_(old);
        old.Dispose();
        return grown;
    }

    /// <summary>Layer <paramref name="layer"/>'s storage, allocated like <paramref name="like"/> ([*, H, *, D]) on first use.</summary>
    internal (Tensor Keys, Tensor Values) Layer(int layer, Tensor like)
    {
        if (_keys[layer] is null)
        {
            _keys[layer] = zeros([Slots, like.shape[^3], Capacity, like.shape[^1]], like.dtype, like.device).DetachFromDisposeScope();
            _values[layer] = zeros([Slots, like.shape[^3], Capacity, like.shape[^1]], like.dtype, like.device).DetachFromDisposeScope();
        }
        return (_keys[layer]!, _values[layer]!);
    }

    internal void Advance(int slot, int positions) => _lengths[slot] += positions;

    /// <summary>A standalone <see cref="KvCache"/> of the slot's positions (to keep a finished conversation for its next turn).</summary>
    public KvCache CopyOut(int slot)
    {
        int length = Length(slot);
        var cache = new KvCache(_keys.Length, Math.Max(1, length));
        if (length == 0) return cache;
        using var _ = no_grad();
        for (int layer = 0; layer < _keys.Length; layer++)
        {
            if (_keys[layer] is not { } k || _values[layer] is not { } v) continue;
            using var ks = k[slot].narrow(1, 0, length).unsqueeze(0);
            using var vs = v[slot].narrow(1, 0, length).unsqueeze(0);
            cache.Append(layer, ks, vs);
        }
        cache.Advance(length);
        return cache;
    }

    /// <summary>Fills <paramref name="slot"/> with the first <paramref name="length"/> positions of <paramref name="cache"/>.</summary>
    public void CopyIn(int slot, KvCache cache, int length)
    {
        _lengths.Check(slot);
        length = Math.Min(length, cache.Length);
        Reserve(length);
        using var _ = no_grad();
        for (int layer = 0; layer < _keys.Length; layer++)
        {
            if (cache.Stored(layer) is not { } stored) continue;
            var (ck, cv) = stored;
            var (k, v) = Layer(layer, ck);
            using var kTo = k[slot].narrow(1, 0, length);
            using var vTo = v[slot].narrow(1, 0, length);
            using var kFrom = ck[0].narrow(1, 0, length);
            using var vFrom = cv[0].narrow(1, 0, length);
            kTo.copy_(kFrom);
            vTo.copy_(vFrom);
        }
        _lengths[slot] = length;
    }

    public void Dispose()
    {
        foreach (var t in _keys.Concat(_values)) t?.Dispose();
        Array.Clear(_keys);
        Array.Clear(_values);
        _lengths.Clear();
    }
}
