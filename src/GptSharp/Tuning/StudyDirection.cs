namespace GptSharp.Tuning;

/// <summary>Whether a study looks for the smallest or the largest objective value.</summary>
public enum StudyDirection { Minimize, Maximize }

/// <summary>Comparisons in a study's direction.</summary>
public static class StudyDirectionExtensions
{
    /// <summary>Whether <paramref name="a"/> is strictly better than <paramref name="b"/>.</summary>
    public static bool IsBetter(this StudyDirection direction, double a, double b) =>
        direction == StudyDirection.Minimize ? a < b : a > b;

    /// <summary>The value as a loss (smaller is better): negated when maximizing, so samplers and pruners think in one direction.</summary>
    public static double AsLoss(this StudyDirection direction, double value) =>
        direction == StudyDirection.Minimize ? value : -value;

    /// <summary>"minimize" or "maximize", as configs and the CLI write it.</summary>
    public static string ToName(this StudyDirection direction) => direction == StudyDirection.Minimize ? "minimize" : "maximize";

    /// <summary>Parses "minimize"/"maximize" (any case); a clear error otherwise.</summary>
    public static StudyDirection Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "minimize" or "min" => StudyDirection.Minimize,
        "maximize" or "max" => StudyDirection.Maximize,
        _ => throw new GptSharpException($"direction must be \"minimize\" or \"maximize\", got \"{text}\""),
    };
}
