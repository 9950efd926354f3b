using GptSharp.IO;

namespace GptSharp.Tuning.Jobs;

/// <summary>
/// The trials' run directories under a tuning output_dir: written as partial directories, published by one rename,
/// abandoned partial ones (their worker died) removed, and all but the best N deleted when asked.
/// </summary>
public static class RunDirectories
{
    const string PartialSuffix = ".partial";

    public static string PartialDir(TuneConfig config, int number) => Path.Combine(config.OutputDir, $".trial-{number:D4}{PartialSuffix}");

    /// <summary>Renames a finished partial run directory to its final name (one atomic rename on one file system).</summary>
    public static void Publish(string partial, string final)
    {
        Delete(final);
        Directory.Move(partial, final);
    }

    /// <summary>Deletes the partial directories of trials that are no longer running (their worker died or failed).</summary>
    public static int RemoveAbandoned(TuneConfig config, Study study)
    {
        if (!Directory.Exists(config.OutputDir)) return 0;
        var running = study.GetTrials(TrialState.Running).Select(t => t.Number).ToHashSet();
        int removed = 0;
        foreach (var dir in Directory.GetDirectories(config.OutputDir, ".trial-*" + PartialSuffix))
        {
            string name = Path.GetFileName(dir);
            if (int.TryParse(name[7..^PartialSuffix.Length], out int number) && !running.Contains(number))
            {
                Delete(dir);
                removed++;
            }
        }
        return removed;
    }

    /// <summary>Keeps the run directories of the <paramref name="keep"/> best complete trials; deletes the other finished trials' ones.</summary>
    public static void KeepBest(TuneConfig config, Study study, int keep)
    {
        var finished = study.GetTrials(TrialState.Complete, TrialState.Pruned, TrialState.Fail);
        var best = finished.Where(t => t.State == TrialState.Complete)
            .OrderBy(t => study.Direction.AsLoss(t.Value!.Value)).ThenBy(t => t.Number).Take(keep).Select(t => t.Number).ToHashSet();
        foreach (var t in finished)
            if (!best.Contains(t.Number)) Delete(TrialRunner.RunDir(config, t.Number));
    }

    internal static void Delete(string dir)
    {
        if (!Directory.Exists(dir)) return;
        // Renamed away first, so an interrupted delete leaves no directory under a trial's name.
        string doomed = dir + ".deleting-" + Environment.ProcessId;
        try { Directory.Move(dir, doomed); }
        catch (IOException) { doomed = dir; }
        Directory.Delete(doomed, recursive: true);
    }

    internal static void WriteText(string path, string text) => AtomicFile.WriteAllText(path, text);
}
