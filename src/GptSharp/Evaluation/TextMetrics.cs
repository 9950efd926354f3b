namespace GptSharp.Evaluation;

/// <summary>Exact match and SQuAD-style token F1 between a generated answer and its reference (tokens: <see cref="TextTokens"/>).</summary>
public static class TextMetrics
{
    /// <summary>1 when prediction and reference are equal after SQuAD normalisation, else 0.</summary>
    public static double ExactMatch(string prediction, string reference) =>
        TextTokens.Normalize(prediction) == TextTokens.Normalize(reference) ? 1 : 0;

    /// <summary>
    /// Harmonic mean of token precision and recall, counting each shared token at most as often as it occurs in
    /// both (a bag-of-tokens overlap). Two empty texts score 1; one empty text scores 0.
    /// </summary>
    public static double F1(string prediction, string reference) =>
        F1(TextTokens.ForMatching(prediction), TextTokens.ForMatching(reference));

    public static double F1(IReadOnlyList<string> predictionTokens, IReadOnlyList<string> referenceTokens)
    {
        if (predictionTokens.Count == 0 || referenceTokens.Count == 0)
            return predictionTokens.Count == referenceTokens.Count ? 1 : 0;
        var counts = referenceTokens.GroupBy(t => t).ToDictionary(g => g.Key, g => g.Count());
        int common = 0;
        foreach (var t in predictionTokens)
            if (counts.TryGetValue(t, out int c) && c > 0) { common++; counts[t] = c - 1; }
        if (common == 0) return 0;
        double precision = (double)common / predictionTokens.Count, recall = (double)common / referenceTokens.Count;
        return 2 * precision * recall / (precision + recall);
    }

    /// <summary>Mean exact match, mean F1 and corpus BLEU over aligned prediction/reference lists.</summary>
    public static TextScores Score(IReadOnlyList<string> predictions, IReadOnlyList<string> references, BleuSmoothing smoothing = BleuSmoothing.None)
    {
        if (predictions.Count != references.Count)
            throw new ArgumentException($"{predictions.Count} predictions but {references.Count} references");
        if (predictions.Count == 0) return new TextScores(0, 0, 0, 0);
        double em = 0, f1 = 0;
        for (int i = 0; i < predictions.Count; i++)
        {
            em += ExactMatch(predictions[i], references[i]);
            f1 += F1(predictions[i], references[i]);
        }
        double bleu = Bleu.Corpus(predictions.Select(TextTokens.ForBleu).ToList(),
            references.Select(r => (IReadOnlyList<IReadOnlyList<string>>)[TextTokens.ForBleu(r)]).ToList(), smoothing: smoothing).Score;
        return new TextScores(predictions.Count, em / predictions.Count, f1 / predictions.Count, bleu);
    }
}

/// <summary>Averages over a set of examples; each score is in [0, 1].</summary>
public sealed record TextScores(int Count, double ExactMatch, double F1, double Bleu);
