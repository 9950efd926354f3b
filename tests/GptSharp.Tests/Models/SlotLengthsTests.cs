using GptSharp.Models;

namespace GptSharp.Tests.Models;

/// <summary>The slot bookkeeping both KV caches share: slots in use stay 0..Count-1, the last moving into a freed one.</summary>
public class SlotLengthsTests
{
    [Fact]
    public void FreeingASlotMovesTheLastIntoItsPlaceWithItsLength()
    {
        var slots = new SlotLengths(3);
        Assert.Equal([0, 1, 2], new[] { slots.Add(), slots.Add(), slots.Add() });
        Assert.Throws<InvalidOperationException>(() => slots.Add());
        (slots[0], slots[1], slots[2]) = (5, 7, 9);

        Assert.Equal(2, slots.Remove(0)); // the last (9 positions) takes index 0
        Assert.Equal([9, 7], slots.InUse.ToArray());
        Assert.Equal(-1, slots.Remove(1)); // the last itself: nothing moves
        Assert.Equal([9], slots.InUse.ToArray());
        Assert.Contains("slot 1 is not in use (0..0)", Assert.Throws<ArgumentOutOfRangeException>(() => slots[1]).Message);
        Assert.Equal(1, slots.Add());
        Assert.Equal(0, slots[1]); // a new slot starts empty
        slots.Clear();
        Assert.Equal(0, slots.Count);
    }
}
