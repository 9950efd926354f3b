using static TorchSharp.torch;

namespace GptSharp.Models;

/// <summary><see cref="IDecodingSlots"/> on TorchSharp: a <see cref="KvSlots"/> cache and <see cref="Gpt.ForwardPacked"/> (any device, any precision).</summary>
public sealed class TorchDecodingSlots(Gpt model, int slots) : IDecodingSlots
{
    readonly KvSlots _cache = new(model.Config.NLayer, slots, Math.Min(model.Config.BlockSize, 256), model.Config.BlockSize);

    public int Count => _cache.Count;
    public int Length(int slot) => _cache.Length(slot);
    public int Add() => _cache.Add();
    public int Remove(int slot) => _cache.Remove(slot);

    public IKvSnapshot CopyOut(int slot) => new Snapshot(_cache.CopyOut(slot));

    public void CopyIn(int slot, IKvSnapshot snapshot, int length) =>
        _cache.CopyIn(slot, snapshot is Snapshot s ? s.Cache : throw new ArgumentException("a snapshot of other slots", nameof(snapshot)), length);

    public Tensor Forward(IReadOnlyList<IReadOnlyList<int>> tokens, IReadOnlyList<int> slots) => model.ForwardPacked(tokens, slots, _cache);

    public void Dispose() => _cache.Dispose();

    sealed class Snapshot(KvCache cache) : IKvSnapshot
    {
        public KvCache Cache { get; } = cache;
        public int Length => Cache.Length;
        public void Dispose() => Cache.Dispose();
    }
}
