namespace GptSharp.Training;

/// <summary>An optimizer step's batch: <paramref name="Accumulation"/> micro-batches of <paramref name="MicroBatch"/> sequences.</summary>
public readonly record struct BatchShape(int MicroBatch, int Accumulation)
{
    public int Sequences => MicroBatch * Accumulation;
}
