using System.Text.Json.Nodes;
using TorchSharp;
using static TorchSharp.torch;
using GptSharp.Tokenization;

namespace GptSharp.Data.Dialogues;

/// <summary>
/// Batches of fine-tuning examples. Each epoch visits every example once in an order shuffled from (seed, epoch);
/// the last batch of an epoch may be smaller, so an epoch is <see cref="StepsPerEpoch"/> batches. Like pretraining,
/// Input is ids[..^1] and Targets is ids[1..]; a target is -100 (ignored by the loss) where the example's loss mask is
/// false and in the padding. Rows are padded on the right to the longest in the batch, which causal attention keeps
/// from influencing the real positions. The state (epoch, position) resumes exactly.
/// </summary>
public sealed class SftBatchSource : IBatchSource
{
    public const long IgnoreIndex = -100;

    readonly IReadOnlyList<SftExample> _examples;
    readonly long _seed;
    readonly int _padId;
    int[] _order;

    public int BatchSize { get; }
    public int BlockSize { get; }
    public int ExamplesCount => _examples.Count;

    /// <summary>Epochs completed so far (0 during the first).</summary>
    public long Epoch { get; private set; }

    /// <summary>How many examples of the current epoch's order have been served (always less than <see cref="ExamplesCount"/>).</summary>
    public int Position { get; private set; }

    /// <param name="padId">Input id used for padding (any valid id; its targets are ignored).</param>
    public SftBatchSource(IReadOnlyList<SftExample> examples, int batchSize, int blockSize, long seed, int padId = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        if (examples.Count == 0) throw new GptSharpException("no fine-tuning examples to batch");
        for (int i = 0; i < examples.Count; i++)
        {
            var e = examples[i];
            if (e.Ids.Length != e.LossMask.Length)
                throw new ArgumentException($"example {i} has {e.Ids.Length} ids but {e.LossMask.Length} mask entries", nameof(examples));
            if (e.Ids.Length < 2 || e.Ids.Length > blockSize + 1)
                throw new ArgumentException($"example {i} has {e.Ids.Length} tokens; expected 2 to block_size + 1 = {blockSize + 1}", nameof(examples));
        }
        _examples = examples;
        BatchSize = batchSize;
        BlockSize = blockSize;
        _seed = seed;
        _padId = padId;
        _order = OrderOf(0);
    }

    /// <summary>Batches in one pass over the examples.</summary>
    public long StepsPerEpoch(int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        return (ExamplesCount + batchSize - 1) / batchSize;
    }

    long? IBatchSource.StepsPerEpoch(int batchSize) => StepsPerEpoch(batchSize);

    int[] OrderOf(long epoch) =>
        SftSplits.Permutation(_examples.Count, _seed ^ (long)(0x9E3779B97F4A7C15UL * (ulong)(epoch + 1)));

    public Batch Next(Device device) => Next(device, BatchSize);

    /// <summary>The next <paramref name="batchSize"/> examples of the epoch's order (fewer at the epoch's end).</summary>
    public Batch Next(Device device, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        int rows = Math.Min(batchSize, _order.Length - Position);
        var batch = new SftExample[rows];
        for (int r = 0; r < rows; r++) batch[r] = _examples[_order[Position + r]];
        Position += rows;
        if (Position == _order.Length) // the epoch is done: move on now, so Epoch counts completed epochs
        {
            Epoch++;
            Position = 0;
            _order = OrderOf(Epoch);
        }

        int t = batch.Max(e => e.Ids.Length) - 1;
        var x = new long[rows * t];
        var y = new long[rows * t];
        var m = new bool[rows * t];
        Array.Fill(x, _padId);
        Array.Fill(y, IgnoreIndex);
        for (int r = 0; r < rows; r++)
        {
            var e = batch[r];
            for (int i = 0; i < e.Ids.Length - 1; i++)
            {
                x[r * t + i] = e.Ids[i];
                if (e.LossMask[i + 1])
                {
                    y[r * t + i] = e.Ids[i + 1];
                    m[r * t + i] = true;
                }
            }
        }
        return new Batch(ToDevice(tensor(x, [rows, t]), device), ToDevice(tensor(y, [rows, t]), device), ToDevice(tensor(m, [rows, t]), device));
    }

    static Tensor ToDevice(Tensor cpu, Device device) => device.type == DeviceType.CPU ? cpu : cpu.to(device);

    public JsonNode GetState() => new JsonObject { ["epoch"] = Epoch, ["position"] = Position, ["examples"] = ExamplesCount };

    public void SetState(JsonNode state)
    {
        long epoch = state["epoch"]?.GetValue<long>() ?? throw new GptSharpException("fine-tuning batch state lacks epoch");
        int position = state["position"]?.GetValue<int>() ?? throw new GptSharpException("fine-tuning batch state lacks position");
        int? examples = state["examples"]?.GetValue<int>();
        if (examples is int n && n != ExamplesCount)
            throw new GptSharpException($"the checkpoint was trained on {n} fine-tuning examples but the data now has {ExamplesCount}; resume needs the same data");
        if (epoch < 0 || position < 0 || position >= ExamplesCount)
            throw new GptSharpException($"fine-tuning batch state is out of range (epoch {epoch}, position {position})");
        Epoch = epoch;
        Position = position;
        _order = OrderOf(epoch);
    }
}
