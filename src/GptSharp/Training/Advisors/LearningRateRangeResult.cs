namespace GptSharp.Training.Advisors;

/// <summary>
/// A finished range test: the curve (one point per step taken), why it stopped, and the suggestions in the order
/// valley, steepest, minimum/10 (none when too few finite points remain, see <see cref="LearningRateSuggestions"/>).
/// </summary>
public sealed record LearningRateRangeResult(
    LearningRateRangeOptions Options, IReadOnlyList<LearningRatePoint> Points, LearningRateRangeStop Stop, IReadOnlyList<LearningRateSuggestion> Suggestions)
{
    /// <summary>The recommendation: valley's suggestion (fastai's default), or null when there is none.</summary>
    public LearningRateSuggestion? Recommended => Suggestions.FirstOrDefault(s => s.Method == LearningRateSuggestions.Valley);
}
