using System.Text.Json.Nodes;
using GptSharp.Data;
using static TorchSharp.torch;

namespace GptSharp.Data;

/// <summary>
/// Gives a source without epochs (pretraining's random windows) a nominal epoch, so num_train_epochs applies to it:
/// one epoch is as many batches as hold the split's tokens once.
/// </summary>
public sealed class EpochSizedSource(IBatchSource inner, long tokens, int blockSize) : IBatchSource
{
    public Batch Next(Device device) => inner.Next(device);

    public Batch Next(Device device, int batchSize) => inner.Next(device, batchSize);

    public long? StepsPerEpoch(int batchSize) => BatchesPerEpoch(tokens, batchSize, blockSize);

    /// <summary>⌈tokens / (batchSize · blockSize)⌉, at least 1.</summary>
    public static long BatchesPerEpoch(long tokens, int batchSize, int blockSize)
    {
        long perBatch = (long)batchSize * blockSize;
        return Math.Max(1, (tokens + perBatch - 1) / perBatch);
    }

    public JsonNode GetState() => inner.GetState();

    public void SetState(JsonNode state) => inner.SetState(state);
}
