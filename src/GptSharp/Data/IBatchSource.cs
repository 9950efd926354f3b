using System.Text.Json.Nodes;
using static TorchSharp.torch;

namespace GptSharp.Data;

/// <summary>
/// Where a trainer gets its batches. Pretraining samples windows of token shards; fine-tuning feeds examples with
/// loss masks (<c>Dialogues.SftBatchSource</c>). The state must capture everything that decides the next batches, so a resumed run sees the same ones.
/// </summary>
public interface IBatchSource
{
    /// <summary>The next batch, its tensors created on <paramref name="device"/> (in the caller's dispose scope).</summary>
    Batch Next(Device device);

    /// <summary>
    /// The next batch of <paramref name="batchSize"/> examples instead of the source's own size (a batch-size schedule
    /// that grows the per-device batch asks for it); the state moves on as it would for that many.
    /// </summary>
    Batch Next(Device device, int batchSize) =>
        throw new GptSharpException($"{GetType().Name} cannot change its batch size; use batch_size_schedule with grow=accumulation");

    /// <summary>
    /// How many <see cref="Next(Device)"/> calls cover the data once when batches hold <paramref name="batchSize"/> examples, or
    /// null when the source has no epochs (e.g. random windows): the Trainer needs it for num_train_epochs.
    /// </summary>
    long? StepsPerEpoch(int batchSize) => null;

    JsonNode GetState();
    void SetState(JsonNode state);
}

/// <summary>
/// Inputs and next-token targets, both [B, T] int64. Targets of -100 are ignored by the loss; a <see cref="LossMask"/>
/// ([B, T] bool, true = counts) is another way to say the same.
/// </summary>
public sealed record Batch(Tensor Input, Tensor Targets, Tensor? LossMask = null);
