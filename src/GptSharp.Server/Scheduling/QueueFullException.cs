namespace GptSharp.Server.Scheduling;

/// <summary>A model's queue is full: the client should retry later (HTTP 429 with Retry-After).</summary>
public sealed class QueueFullException(string modelId, int maxQueue)
    : Exception($"model '{modelId}' has {maxQueue} requests waiting already; retry shortly")
{
    public string ModelId { get; } = modelId;
}
