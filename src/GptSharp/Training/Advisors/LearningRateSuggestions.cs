namespace GptSharp.Training.Advisors;

/// <summary>
/// Learning rates read off a range test's curve, as fastai's <c>lr_find</c> suggests them
/// (fastai/callback/schedule.py: <c>valley</c>, <c>steep</c>, <c>minimum</c>), on a curve guarded against the known
/// ways they go wrong:
/// <list type="bullet">
/// <item>NaN or infinite losses: the curve is cut before the first one (fastai drops from the first NaN), so no
/// suggestion comes from a broken point.</item>
/// <item>Noise: the losses are smoothed (bias-corrected exponential average), and the first tenth of the requested
/// steps and the last 5 points are skipped (fastai's <c>num_it//10</c> and <c>-5</c>): the start is noisy and flat,
/// the end is the divergence.</item>
/// <item>Noise, for <c>steepest</c>: its slope is taken over a twentieth of the curve, not between adjacent points.</item>
/// <item>An early spike: before smoothing, the raw losses pass an upward-only <see cref="HampelFilter"/>, so a single
/// bad batch does not become a long fake descent in the smoothed curve.</item>
/// </list>
/// </summary>
public static class LearningRateSuggestions
{
    public const string Valley = "valley", Steepest = "steepest", MinimumOverTen = "minimum/10";
    /// <summary>Points skipped at the end (fastai's <c>-5</c>).</summary>
    public const int SkipEnd = 5;

    /// <summary>
    /// The three suggestions, valley first, for the <paramref name="points"/> of a test of <paramref name="requestedSteps"/>
    /// steps; empty when fewer than 3 finite points remain even with the skips relaxed.
    /// </summary>
    public static IReadOnlyList<LearningRateSuggestion> Suggest(IReadOnlyList<LearningRatePoint> points, int requestedSteps, double beta = 0.98)
    {
        var (from, count, curve) = Window(points, requestedSteps, beta);
        if (count < 3) return [];
        var lrs = points.Skip(from).Take(count).Select(p => p.LearningRate).ToArray();
        var losses = curve.Skip(from).Take(count).ToArray();
        LearningRateSuggestion At(string method, int i, double divide = 1) => new(method, lrs[i] / divide, points[from + i].Step);
        return
        [
            At(Valley, ValleyIndex(losses)),
            At(Steepest, SteepestIndex(lrs, losses)),
            At(MinimumOverTen, MinimumIndex(losses), 10),
        ];
    }

    /// <summary>
    /// Where the suggestions look: the finite prefix, without the first requestedSteps/10 and the last <see cref="SkipEnd"/>
    /// points (relaxed to a tenth of the prefix and 1 when that leaves fewer than 3), and the despiked smoothed losses.
    /// </summary>
    public static (int From, int Count, double[] Curve) Window(IReadOnlyList<LearningRatePoint> points, int requestedSteps, double beta = 0.98)
    {
        int finite = 0;
        while (finite < points.Count && double.IsFinite(points[finite].Loss) && double.IsFinite(points[finite].SmoothedLoss)) finite++;
        var curve = LossSmoother.Smooth(HampelFilter.RemoveSpikes([.. points.Take(finite).Select(p => p.Loss)]), beta);
        int from = requestedSteps / 10, count = finite - from - SkipEnd;
        if (count < 3) (from, count) = (finite / 10, finite - finite / 10 - 1);
        return (from, Math.Max(count, 0), curve);
    }

    /// <summary>
    /// fastai's <c>valley</c> (from ESRI's arcgis.learn): the longest descending run of the curve (a longest decreasing
    /// subsequence, ending at max_end, starting lds[max_end] points before it), and the point two thirds down it
    /// (start + ⌊len/3⌋ + ⌊len/6⌋ as fastai computes it).
    /// </summary>
    public static int ValleyIndex(IReadOnlyList<double> losses)
    {
        int n = losses.Count, maxStart = 0, maxEnd = 0;
        var lds = Enumerable.Repeat(1, n).ToArray();
        for (int i = 1; i < n; i++)
            for (int j = 0; j < i; j++)
            {
                if (losses[i] < losses[j] && lds[i] < lds[j] + 1) lds[i] = lds[j] + 1;
                if (lds[maxEnd] < lds[i])
                {
                    maxEnd = i;
                    maxStart = maxEnd - lds[maxEnd];
                }
            }
        double sections = (maxEnd - maxStart) / 3.0;
        return Math.Clamp(maxStart + (int)sections + (int)(sections / 2), 0, n - 1);
    }

    /// <summary>
    /// fastai's <c>steep</c>: the point where the loss falls fastest against log(lr). The slope is taken over
    /// <paramref name="span"/> points (default: a twentieth of the curve, at least 1 — fastai's adjacent points), and the
    /// point returned is the middle of the steepest span: on noisy losses, adjacent points' differences are mostly noise.
    /// </summary>
    public static int SteepestIndex(IReadOnlyList<double> lrs, IReadOnlyList<double> losses, int? span = null)
    {
        int k = Math.Clamp(span ?? losses.Count / 20, 1, Math.Max(1, losses.Count - 1));
        int best = 0;
        double bestGrad = double.PositiveInfinity;
        for (int i = 0; i + k < losses.Count; i++)
        {
            double grad = (losses[i + k] - losses[i]) / (Math.Log(lrs[i + k]) - Math.Log(lrs[i]));
            if (grad < bestGrad) (best, bestGrad) = (i + k / 2, grad);
        }
        return best;
    }

    /// <summary>fastai's <c>minimum</c> (its lr is divided by 10): the lowest point of the curve.</summary>
    public static int MinimumIndex(IReadOnlyList<double> losses)
    {
        int best = 0;
        for (int i = 1; i < losses.Count; i++)
            if (losses[i] < losses[best]) best = i;
        return best;
    }
}
