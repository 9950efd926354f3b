namespace GptSharp.Evaluation;

/// <summary>What to do when a candidate corpus shares no n-grams of some order with its references.</summary>
public enum BleuSmoothing
{
    /// <summary>Papineni et al. (2002) as defined: any zero n-gram precision makes BLEU 0.</summary>
    None,
    /// <summary>A zero match count becomes 0.1 (Chen and Cherry 2014, method 1).</summary>
    Epsilon,
    /// <summary>Add 1 to matches and totals for n &gt; 1 (Lin and Och 2004); useful for single sentences.</summary>
    AddOne,
}

/// <summary>BLEU and the counts behind it, so a report can show where a score comes from.</summary>
/// <param name="Score">BLEU in [0, 1].</param>
/// <param name="Precisions">Modified n-gram precisions p_1..p_N (after smoothing).</param>
/// <param name="BrevityPenalty">exp(1 − r/c) when the candidates are shorter than the references, else 1.</param>
/// <param name="CandidateLength">c: total candidate tokens.</param>
/// <param name="ReferenceLength">r: summed length of the reference closest in length to each candidate.</param>
public sealed record BleuResult(double Score, IReadOnlyList<double> Precisions, double BrevityPenalty, int CandidateLength, int ReferenceLength);

/// <summary>
/// Corpus BLEU (Papineni et al. 2002): the geometric mean of modified n-gram precisions for n = 1..N, pooled over the
/// whole corpus (clipped match counts summed over sentences, then divided), times a brevity penalty computed from the
/// total candidate and reference lengths. Uniform weights 1/N; N = 4 by default.
/// </summary>
public static class Bleu
{
    /// <summary>BLEU of tokenised candidates, each with one or more tokenised references.</summary>
    public static BleuResult Corpus(IReadOnlyList<IReadOnlyList<string>> candidates, IReadOnlyList<IReadOnlyList<IReadOnlyList<string>>> references,
        int maxOrder = 4, BleuSmoothing smoothing = BleuSmoothing.None)
    {
        if (candidates.Count != references.Count)
            throw new ArgumentException($"{candidates.Count} candidates but {references.Count} reference sets");
        ArgumentOutOfRangeException.ThrowIfLessThan(maxOrder, 1);
        var matches = new long[maxOrder];
        var totals = new long[maxOrder];
        int c = 0, r = 0;
        for (int s = 0; s < candidates.Count; s++)
        {
            var cand = candidates[s];
            var refs = references[s];
            if (refs.Count == 0) throw new ArgumentException($"candidate {s} has no reference");
            c += cand.Count;
            // Closest reference length; ties go to the shorter one (as in the reference implementation).
            r += refs.Select(x => x.Count).OrderBy(len => Math.Abs(len - cand.Count)).ThenBy(len => len).First();
            for (int n = 1; n <= maxOrder; n++)
            {
                var candCounts = NGrams(cand, n);
                // Clip each n-gram's count by the most times it appears in any single reference.
                var maxRef = new Dictionary<string, int>();
                foreach (var reference in refs)
                    foreach (var (g, k) in NGrams(reference, n))
                        maxRef[g] = Math.Max(maxRef.GetValueOrDefault(g), k);
                foreach (var (g, k) in candCounts)
                    matches[n - 1] += Math.Min(k, maxRef.GetValueOrDefault(g));
                totals[n - 1] += Math.Max(0, cand.Count - n + 1);
            }
        }

        var precisions = new double[maxOrder];
        for (int n = 0; n < maxOrder; n++)
        {
            double m = matches[n], t = totals[n];
            if (smoothing == BleuSmoothing.AddOne && n > 0) { m += 1; t += 1; }
            if (smoothing == BleuSmoothing.Epsilon && m == 0 && t > 0) m = 0.1;
            precisions[n] = t > 0 ? m / t : 0;
        }
        double bp = c == 0 ? 0 : c > r ? 1 : Math.Exp(1 - (double)r / c);
        double score = precisions.Any(p => p <= 0) ? 0 : bp * Math.Exp(precisions.Average(Math.Log));
        return new BleuResult(score, precisions, bp, c, r);
    }

    /// <summary>BLEU of one candidate against one reference: a convenience over <see cref="Corpus"/>.</summary>
    public static BleuResult Sentence(IReadOnlyList<string> candidate, IReadOnlyList<string> reference, int maxOrder = 4, BleuSmoothing smoothing = BleuSmoothing.AddOne) =>
        Corpus([candidate], [[reference]], maxOrder, smoothing);

    static Dictionary<string, int> NGrams(IReadOnlyList<string> tokens, int n)
    {
        var counts = new Dictionary<string, int>();
        for (int i = 0; i + n <= tokens.Count; i++)
        {
            // U+0001 cannot occur inside a token (tokens come from text split on whitespace), so the join is unambiguous.
            string key = string.Join('\u0001', tokens.Skip(i).Take(n));
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
        return counts;
    }
}
