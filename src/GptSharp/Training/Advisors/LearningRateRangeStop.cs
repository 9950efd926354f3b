namespace GptSharp.Training.Advisors;

/// <summary>Why a learning-rate range test ended.</summary>
public enum LearningRateRangeStop
{
    /// <summary>Every step of the ramp ran.</summary>
    Completed,
    /// <summary>The smoothed loss exceeded the divergence factor (4) times its best.</summary>
    Diverged,
    /// <summary>The loss became NaN or infinite.</summary>
    NotFinite,
}
