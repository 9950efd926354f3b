using System.Runtime.InteropServices;
using GptSharp.Native;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace GptSharp.Inference.Onnx;

/// <summary>
/// The onnx engine's KV cache: per layer one key and one value buffer [slots, heads, capacity, head_size] in native
/// memory, which <c>GroupQueryAttention</c> reads as its past and writes its present into (the same buffer bound as
/// both: nothing is copied per step). A slot is one sequence, its positions left-aligned; a run covers consecutive
/// slots through views of the buffers. Capacity doubles, up to the model's context, as sequences grow.
/// </summary>
sealed unsafe class OnnxKvBuffers : IDisposable
{
    readonly int _heads, _headSize, _maxCapacity;
    readonly float*[] _buffers; // key 0, value 0, key 1, value 1, …

    public OnnxKvBuffers(int layers, int heads, int headSize, int slots, int capacity, int maxCapacity)
    {
        (_heads, _headSize, Slots, _maxCapacity) = (heads, headSize, slots, maxCapacity);
        Capacity = Math.Clamp(capacity, 1, maxCapacity);
        _buffers = new float*[2 * layers];
        for (int i = 0; i < _buffers.Length; i++) _buffers[i] = Allocate(Capacity);
    }

    public int Slots { get; }
    /// <summary>Positions a slot holds now.</summary>
    public int Capacity { get; private set; }
    /// <summary>Bytes held (all layers, keys and values).</summary>
    public long Bytes => (long)_buffers.Length * Slots * _heads * Capacity * _headSize * sizeof(float);

    float* Allocate(int capacity)
    {
        nuint bytes = (nuint)((long)Slots * _heads * capacity * _headSize * sizeof(float));
        var p = (float*)HugePages.Allocate(bytes);
        NativeMemory.Clear(p, bytes);
        return p;
    }

    /// <summary>Grows every slot to hold <paramref name="positions"/>, keeping the first <paramref name="lengths"/>[slot] of each.</summary>
    public void Reserve(int positions, ReadOnlySpan<int> lengths)
    {
        if (positions <= Capacity) return;
        if (positions > _maxCapacity) throw new GptSharpException($"the KV cache holds at most {_maxCapacity} positions; {positions} asked");
        int grown = Capacity;
        while (grown < positions) grown = Math.Min(_maxCapacity, grown * 2);
        for (int i = 0; i < _buffers.Length; i++)
        {
            var old = _buffers[i];
            var next = Allocate(grown);
            for (int slot = 0; slot < Slots; slot++)
            {
                int length = slot < lengths.Length ? lengths[slot] : 0;
                if (length == 0) continue;
                for (int h = 0; h < _heads; h++)
                    Buffer.MemoryCopy(old + Offset(slot, h, 0, Capacity), next + Offset(slot, h, 0, grown),
                                      (long)length * _headSize * sizeof(float), (long)length * _headSize * sizeof(float));
            }
            HugePages.Free(old);
            _buffers[i] = next;
        }
        Capacity = grown;
        _views = null;
    }

    long Offset(int slot, int head, int position, int capacity) => (((long)slot * _heads + head) * capacity + position) * _headSize;

    (int First, int Count, int Capacity) _viewKey;
    OrtValue[]? _views;

    /// <summary>
    /// Views of slots [<paramref name="first"/>, <paramref name="first"/>+<paramref name="count"/>) of every buffer, in the
    /// graph's order (key 0, value 0, …), owned by this object (valid until the next call or a growth).
    /// </summary>
    public OrtValue[] Views(int first, int count)
    {
        if (_views is not null && _viewKey == (first, count, Capacity)) return _views;
        DisposeViews();
        long[] shape = [count, _heads, Capacity, _headSize];
        long bytes = (long)count * _heads * Capacity * _headSize * sizeof(float);
        _views = new OrtValue[_buffers.Length];
        for (int i = 0; i < _buffers.Length; i++)
            _views[i] = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float, shape,
                                                           (IntPtr)(_buffers[i] + Offset(first, 0, 0, Capacity)), bytes);
        _viewKey = (first, count, Capacity);
        return _views;
    }

    void DisposeViews()
    {
        if (_views is null) return;
        foreach (var v in _views) v.Dispose();
        _views = null;
    }

    /// <summary>Where <paramref name="slot"/> starts in each buffer (key 0, value 0, …): [heads, <see cref="Capacity"/>, head_size] each.</summary>
    public void SlotStarts(int slot, Span<nint> into)
    {
        for (int i = 0; i < _buffers.Length; i++) into[i] = (nint)(_buffers[i] + Offset(slot, 0, 0, Capacity));
    }

    /// <summary>Copies the first <paramref name="length"/> positions of slot <paramref name="from"/> into slot <paramref name="to"/>.</summary>
    public void CopySlot(int from, int to, int length)
    {
        long bytes = (long)length * _headSize * sizeof(float);
        foreach (var b in _buffers)
            for (int h = 0; h < _heads; h++)
                Buffer.MemoryCopy(b + Offset(from, h, 0, Capacity), b + Offset(to, h, 0, Capacity), bytes, bytes);
    }

    /// <summary>The first <paramref name="length"/> positions of <paramref name="slot"/>, buffer by buffer, head by head.</summary>
    public float[] CopyOut(int slot, int length)
    {
        int chunk = length * _headSize;
        var data = new float[(long)_buffers.Length * _heads * chunk];
        fixed (float* to = data)
            for (int i = 0; i < _buffers.Length; i++)
                for (int h = 0; h < _heads; h++)
                    Buffer.MemoryCopy(_buffers[i] + Offset(slot, h, 0, Capacity), to + ((long)i * _heads + h) * chunk,
                                      (long)chunk * sizeof(float), (long)chunk * sizeof(float));
        return data;
    }

    /// <summary>Fills the first <paramref name="length"/> positions of <paramref name="slot"/> from what <see cref="CopyOut"/> gave for <paramref name="stored"/> positions.</summary>
    public void CopyIn(int slot, float[] data, int stored, int length)
    {
        if (length > stored) throw new ArgumentOutOfRangeException(nameof(length));
        int chunk = stored * _headSize;
        long bytes = (long)length * _headSize * sizeof(float);
        fixed (float* from = data)
            for (int i = 0; i < _buffers.Length; i++)
                for (int h = 0; h < _heads; h++)
                    Buffer.MemoryCopy(from + ((long)i * _heads + h) * chunk, _buffers[i] + Offset(slot, h, 0, Capacity), bytes, bytes);
    }

    bool _disposed;

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        DisposeViews();
        foreach (var b in _buffers) HugePages.Free(b);
        GC.SuppressFinalize(this);
    }

    ~OnnxKvBuffers()
    {
        if (_disposed) return;
        foreach (var b in _buffers) HugePages.Free(b);
    }
}
