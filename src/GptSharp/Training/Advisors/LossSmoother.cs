namespace GptSharp.Training.Advisors;

/// <summary>
/// The range test's running loss: a bias-corrected exponential moving average (avg ← β·avg + (1−β)·loss, shown as
/// avg / (1 − βⁿ), as fastai's and Lightning's lr_find smooth it), the best smoothed value so far, and the stop rule:
/// stop once the smoothed loss exceeds <c>divergenceFactor</c> × its best, or is not finite. The 4× rule waits
/// <c>grace</c> values: the first average weighs each loss heavily (a third of it at the third), so one bad early batch
/// would otherwise end the test before it has begun (a NaN or infinity stops it at once).
/// </summary>
public sealed class LossSmoother(double beta = 0.98, double divergenceFactor = 4, int grace = 0)
{
    double _average;
    int _count;

    public double Smoothed { get; private set; } = double.NaN;
    public double Best { get; private set; } = double.PositiveInfinity;

    /// <summary>Adds one raw loss; returns why the test should stop now, or null to go on.</summary>
    public LearningRateRangeStop? Add(double loss)
    {
        _count++;
        _average = beta * _average + (1 - beta) * loss;
        Smoothed = _average / (1 - Math.Pow(beta, _count));
        if (!double.IsFinite(Smoothed)) return LearningRateRangeStop.NotFinite;
        if (Smoothed < Best) Best = Smoothed;
        return _count > grace && Smoothed > divergenceFactor * Best ? LearningRateRangeStop.Diverged : null;
    }

    /// <summary>The smoothed curve of <paramref name="losses"/> (pure; for tests and redrawing).</summary>
    public static double[] Smooth(IEnumerable<double> losses, double beta = 0.98)
    {
        var s = new LossSmoother(beta, double.PositiveInfinity);
        return [.. losses.Select(l => { s.Add(l); return s.Smoothed; })];
    }
}
