namespace GptSharp.Models;

/// <summary>
/// The bookkeeping behind every <see cref="IDecodingSlots"/> cache (<see cref="KvSlots"/>, the onnx engine's): slots in
/// use are always 0..<see cref="Count"/>-1, each with the number of positions it caches; freeing one moves the last
/// into its place. The owner moves the cached data itself.
/// </summary>
public sealed class SlotLengths(int slots)
{
    readonly int[] _lengths = new int[slots > 0 ? slots : throw new ArgumentOutOfRangeException(nameof(slots), "at least one slot")];

    /// <summary>Slots there are room for.</summary>
    public int Slots => _lengths.Length;

    /// <summary>Slots in use: 0..Count-1.</summary>
    public int Count { get; private set; }

    /// <summary>Positions cached in a slot in use.</summary>
    public int this[int slot]
    {
        get => _lengths[Check(slot)];
        set => _lengths[Check(slot)] = value;
    }

    /// <summary>The lengths of the slots in use, in slot order.</summary>
    public ReadOnlySpan<int> InUse => _lengths.AsSpan(0, Count);

    /// <summary>A new empty slot (the next free index).</summary>
    public int Add()
    {
        if (Count == Slots) throw new InvalidOperationException($"all {Slots} KV slots are in use");
        _lengths[Count] = 0;
        return Count++;
    }

    /// <summary>
    /// Frees <paramref name="slot"/>: the last slot in use takes its index, with its length. Returns the index it had
    /// (its data is to be moved into <paramref name="slot"/>, <c>this[slot]</c> positions), or -1 when it was the last.
    /// </summary>
    public int Remove(int slot)
    {
        Check(slot);
        int last = --Count;
        if (slot == last) return -1;
        _lengths[slot] = _lengths[last];
        return last;
    }

    /// <summary>No slot in use.</summary>
    public void Clear() => Count = 0;

    /// <summary><paramref name="slot"/> when it is in use; otherwise an error naming the range.</summary>
    public int Check(int slot) =>
        slot >= 0 && slot < Count ? slot : throw new ArgumentOutOfRangeException(nameof(slot), $"slot {slot} is not in use (0..{Count - 1})");
}
