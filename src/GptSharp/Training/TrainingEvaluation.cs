namespace GptSharp.Training;

/// <summary>An evaluation on the validation data at <see cref="Step"/>, as <see cref="TrainerCallback.OnEvaluate"/> receives it.</summary>
/// <param name="ValLoss">Mean loss over eval_iters validation batches (the same batches at every evaluation).</param>
public sealed record TrainingEvaluation(int Step, double ValLoss)
{
    /// <summary>Perplexity, exp(val_loss).</summary>
    public double ValPerplexity => Math.Exp(ValLoss);

    /// <summary>The metrics by name, as metrics.jsonl writes them (<c>val_loss</c>, <c>val_ppl</c>), e.g. for metric_for_best_model-style lookups.</summary>
    public IReadOnlyDictionary<string, double> Metrics => new Dictionary<string, double> { ["val_loss"] = ValLoss, ["val_ppl"] = ValPerplexity };
}
