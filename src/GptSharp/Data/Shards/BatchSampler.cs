using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Data.Shards;

/// <summary>
/// Random contiguous windows of a <see cref="TokenDataset"/> (nanoGPT's get_batch): each row starts at a uniformly drawn
/// position; x is tokens [i, i+T) and y is tokens [i+1, i+T+1). Windows may cross document boundaries, where the
/// end-of-text token tells the model a new document began.
/// </summary>
public sealed class BatchSampler : IBatchSource
{
    readonly TokenDataset _data;
    readonly SplitMix64 _random;
    readonly long[] _window;

    public int BatchSize { get; }
    public int BlockSize { get; }

    public BatchSampler(TokenDataset data, int batchSize, int blockSize, long seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        if (data.Count < blockSize + 1)
            throw new GptSharpException($"the {data.Split} split has {data.Count} tokens, fewer than block_size + 1 = {blockSize + 1}; " +
                "prepare more text or lower block_size");
        _data = data;
        BatchSize = batchSize;
        BlockSize = blockSize;
        _random = new SplitMix64((ulong)seed);
        _window = new long[blockSize + 1];
    }

    public Batch Next(Device device) => Next(device, BatchSize);

    public Batch Next(Device device, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        int b = batchSize, t = BlockSize;
        var x = new long[b * t];
        var y = new long[b * t];
        long positions = _data.Count - t; // valid starts: 0 .. Count - T - 1
        for (int row = 0; row < b; row++)
        {
            _data.CopyTo(_random.NextInt64(positions), _window);
            _window.AsSpan(0, t).CopyTo(x.AsSpan(row * t));
            _window.AsSpan(1, t).CopyTo(y.AsSpan(row * t));
        }
        return new Batch(ToDevice(tensor(x, [b, t]), device), ToDevice(tensor(y, [b, t]), device));
    }

    static Tensor ToDevice(Tensor cpu, Device device) => device.type == DeviceType.CPU ? cpu : cpu.to(device);

    /// <summary>The generator's state: the sampler draws the same windows from here on after <see cref="SetState"/>.</summary>
    public ulong RandomState
    {
        get => _random.State;
        set => _random.State = value;
    }

    public JsonNode GetState() => new JsonObject { ["random_state"] = RandomState };

    public void SetState(JsonNode state) =>
        RandomState = state["random_state"]?.GetValue<ulong>() ?? throw new GptSharpException("batch sampler state lacks random_state");
}
