using static TorchSharp.torch;

namespace GptSharp.Models;

/// <summary>
/// One forward pass of a continuous batch, as every layer needs it: which slot each packed row continues, and for the
/// rows that decode one token the index tensors and the attention mask they share, built once per pass.
/// </summary>
internal sealed class PackedStep : IDisposable
{
    /// <summary>A row of the pass: <see cref="Length"/> tokens from packed position <see cref="Start"/>, continuing <see cref="Slot"/> after <see cref="Past"/> positions.</summary>
    public readonly record struct Row(int Slot, int Start, int Length, int Past);

    public Row[] Rows { get; }
    public int Total { get; }
    /// <summary>Rows of one token: they attend together, in one operation per layer.</summary>
    public int DecodeCount { get; }
    /// <summary>The decoding rows are the first rows, in slots 0..n-1, and no other slot is in use: no gathering needed.</summary>
    public bool DecodeContiguous { get; }
    /// <summary>Slots the decoding attention covers (its batch) and positions (its keys).</summary>
    public int AttendSlots { get; }
    public int AttendLength { get; }
    public Tensor? DecodePacked { get; }
    public Tensor? DecodeSlots { get; }
    public Tensor? DecodePast { get; }
    /// <summary>[AttendSlots, 1, 1, AttendLength]: true where a slot's query may see a key (its own positions so far).</summary>
    public Tensor? Mask { get; }
    public int[] PrefillRows { get; }

    public PackedStep(Row[] rows, int slotsInUse, Device device)
    {
        Rows = rows;
        Total = rows.Sum(r => r.Length);
        var decode = Enumerable.Range(0, rows.Length).Where(i => rows[i].Length == 1).ToArray();
        PrefillRows = Enumerable.Range(0, rows.Length).Where(i => rows[i].Length != 1).ToArray();
        DecodeCount = decode.Length;
        if (DecodeCount == 0) return;
        DecodeContiguous = DecodeCount == slotsInUse && decode.Select((r, i) => rows[r].Slot == i && rows[r].Start == i).All(x => x);
        AttendSlots = DecodeContiguous ? DecodeCount : slotsInUse;
        var lengths = new long[AttendSlots];
        Array.Fill(lengths, 1L); // slots not decoding this pass see one (harmless) position; their output is dropped
        foreach (int r in decode) lengths[rows[r].Slot] = rows[r].Past + 1;
        AttendLength = (int)lengths.Max();
        DecodePacked = tensor(decode.Select(r => (long)rows[r].Start).ToArray(), ScalarType.Int64, device);
        DecodeSlots = tensor(decode.Select(r => (long)rows[r].Slot).ToArray(), ScalarType.Int64, device);
        DecodePast = tensor(decode.Select(r => (long)rows[r].Past).ToArray(), ScalarType.Int64, device);
        using var positions = arange(AttendLength, ScalarType.Int64, device);
        using var limit = tensor(lengths, ScalarType.Int64, device);
        using var cmp = positions.unsqueeze(0).lt(limit.unsqueeze(1));
        Mask = cmp.view(AttendSlots, 1, 1, AttendLength).clone();
    }

    public void Dispose()
    {
        DecodePacked?.Dispose();
        DecodeSlots?.Dispose();
        DecodePast?.Dispose();
        Mask?.Dispose();
    }
}
