namespace GptSharp.Training.Advisors;

/// <summary>What each fold is scored by: its run's final val_loss, or a reply metric of its final model on its fold.</summary>
public static class CrossValidationMetric
{
    public const string ValLoss = "val_loss", TokenF1 = "token_f1", ExactMatch = "exact_match", Bleu = "bleu";
    public static readonly IReadOnlyList<string> All = [ValLoss, TokenF1, ExactMatch, Bleu];

    /// <summary>Loss points down; the reply metrics point up.</summary>
    public static bool LowerIsBetter(string metric) => metric == ValLoss;

    public static string Check(string metric) => All.Contains(metric) ? metric
        : throw new GptSharpException($"--metric must be one of {string.Join(", ", All)}, got '{metric}'");
}
