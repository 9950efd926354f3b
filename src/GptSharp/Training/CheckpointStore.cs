using System.Text.RegularExpressions;

namespace GptSharp.Training;

/// <summary>The <c>checkpoint-N</c> directories of a run's output directory.</summary>
public static partial class CheckpointStore
{
    [GeneratedRegex(@"^checkpoint-(\d+)$")]
    private static partial Regex CheckpointName();

    [GeneratedRegex(@"^(checkpoint-\d+|final)\.(tmp|old)-")]
    private static partial Regex LeftoverName();

    public static string PathFor(string outputDir, int step) => Path.Combine(outputDir, $"checkpoint-{step}");

    /// <summary>Complete checkpoints (those with a trainer_state.json), oldest first.</summary>
    public static IReadOnlyList<(int Step, string Path)> List(string outputDir)
    {
        if (!Directory.Exists(outputDir)) return [];
        return Directory.EnumerateDirectories(outputDir)
            .Select(d => (Match: CheckpointName().Match(System.IO.Path.GetFileName(d)), Path: d))
            .Where(x => x.Match.Success && int.TryParse(x.Match.Groups[1].Value, out _) && File.Exists(System.IO.Path.Combine(x.Path, TrainerState.FileName)))
            .Select(x => (int.Parse(x.Match.Groups[1].Value), x.Path))
            .OrderBy(x => x.Item1)
            .ToList();
    }

    public static string? Latest(string outputDir) => List(outputDir) is { Count: > 0 } all ? all[^1].Path : null;

    /// <summary>N for a directory named checkpoint-N, else null.</summary>
    public static int? StepOf(string dir) =>
        CheckpointName().Match(System.IO.Path.GetFileName(System.IO.Path.TrimEndingDirectorySeparator(dir))) is { Success: true } m
        && int.TryParse(m.Groups[1].Value, out int step) ? step : null;

    /// <summary>
    /// Deletes all but the newest <paramref name="keep"/> checkpoints (none when null), and never the one at
    /// <paramref name="bestStep"/>: the best checkpoint survives on top of the newest ones.
    /// </summary>
    public static void Rotate(string outputDir, int? keep, int? bestStep = null)
    {
        if (keep is not { } k) return;
        var all = List(outputDir);
        foreach (var (step, path) in all.Take(Math.Max(0, all.Count - k)))
            if (step != bestStep) Directory.Delete(path, recursive: true);
    }

    /// <summary>Removes half-written directories that an interrupted save left behind.</summary>
    public static void DeleteLeftovers(string outputDir)
    {
        if (!Directory.Exists(outputDir)) return;
        foreach (var d in Directory.EnumerateDirectories(outputDir))
            if (LeftoverName().IsMatch(System.IO.Path.GetFileName(d))) Directory.Delete(d, recursive: true);
    }
}
