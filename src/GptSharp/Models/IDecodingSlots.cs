using static TorchSharp.torch;

namespace GptSharp.Models;

/// <summary>
/// Sequences that come and go while being decoded together (continuous batching): one slot each, the slots in use
/// always 0..<see cref="Count"/>-1 (freeing one moves the last into its place). Each pass feeds every listed slot its new
/// tokens, however many, whatever its length. <see cref="TorchDecodingSlots"/> runs <see cref="Gpt.ForwardPacked"/>;
/// a decoding engine gives its own (<see cref="IDecodingEngine.StartSlots"/>).
/// </summary>
public interface IDecodingSlots : IDisposable
{
    /// <summary>Slots in use.</summary>
    int Count { get; }

    /// <summary>Positions cached in <paramref name="slot"/>.</summary>
    int Length(int slot);

    /// <summary>A new empty slot (index <see cref="Count"/> before the call).</summary>
    int Add();

    /// <summary>Frees <paramref name="slot"/>; the last slot in use moves into its place. Returns the index that moved, or -1.</summary>
    int Remove(int slot);

    /// <summary>A copy of the slot's cached positions, to fill another slot later (the next turn of a conversation).</summary>
    IKvSnapshot CopyOut(int slot);

    /// <summary>Fills <paramref name="slot"/> with the first <paramref name="length"/> positions of <paramref name="snapshot"/> (one of this object's).</summary>
    void CopyIn(int slot, IKvSnapshot snapshot, int length);

    /// <summary>
    /// Feeds <paramref name="tokens"/>[i] to slot <paramref name="slots"/>[i] (distinct slots) and returns each one's last
    /// position's logits, [slots, vocab] (in the caller's dispose scope).
    /// </summary>
    Tensor Forward(IReadOnlyList<IReadOnlyList<int>> tokens, IReadOnlyList<int> slots);
}

/// <summary>Cached positions copied out of an <see cref="IDecodingSlots"/>; disposing frees them.</summary>
public interface IKvSnapshot : IDisposable
{
    int Length { get; }
}
