using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Evaluation;

/// <summary>How many next-token predictions (argmax of the logits) hit their target, over the positions that count.</summary>
public readonly record struct TokenAccuracy(long Correct, long Total)
{
    /// <summary>Correct / Total, or 0 when no position counted.</summary>
    public double Value => Total == 0 ? 0 : (double)Correct / Total;

    /// <summary>Pools two counts (e.g. over batches): accuracy over the union, not the mean of two accuracies.</summary>
    public static TokenAccuracy operator +(TokenAccuracy a, TokenAccuracy b) => new(a.Correct + b.Correct, a.Total + b.Total);
}

public static class NextTokenAccuracy
{
    /// <summary>
    /// Counts positions where argmax(<paramref name="logits"/>) equals <paramref name="targets"/>.
    /// </summary>
    /// <param name="logits">[..., vocab] scores; already aligned with targets (position t predicts targets[t]).</param>
    /// <param name="targets">[...] token ids (int64); positions with a negative id (e.g. -100, the usual ignore index) never count.</param>
    /// <param name="mask">Optional [...] bool or numeric mask; only nonzero positions count (SFT: the answer tokens).</param>
    public static TokenAccuracy Compute(Tensor logits, Tensor targets, Tensor? mask = null)
    {
        if (logits.dim() != targets.dim() + 1 || !logits.shape.Take((int)targets.dim()).SequenceEqual(targets.shape))
            throw new ArgumentException($"logits shape [{string.Join(", ", logits.shape)}] does not match targets [{string.Join(", ", targets.shape)}] plus a vocabulary dimension");
        if (mask is not null && !mask.shape.SequenceEqual(targets.shape))
            throw new ArgumentException($"mask shape [{string.Join(", ", mask.shape)}] differs from targets [{string.Join(", ", targets.shape)}]");
        using var scope = NewDisposeScope();
        var counted = targets.ge(0);
        if (mask is not null) counted = counted.logical_and(mask.to(targets.device).ne(0));
        var hit = logits.argmax(-1).eq(targets).logical_and(counted);
        return new TokenAccuracy(hit.sum().item<long>(), counted.sum().item<long>());
    }
}
