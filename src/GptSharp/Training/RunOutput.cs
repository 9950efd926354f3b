using GptSharp.IO;

namespace GptSharp.Training;

/// <summary>
/// What starting a run in output_dir means — a fresh start, a resume, or starting over by deleting the previous run's
/// files — decided without touching anything, so that it is checked before any work and again when the run starts.
/// </summary>
public static class RunOutput
{
    /// <summary>The checkpoint to resume from (null: a fresh start) and the previous run's files to delete first.</summary>
    public sealed record Plan(string? ResumeFrom, IReadOnlyList<string> ToDelete);

    /// <summary>
    /// Checks output_dir against the options: writable; a previous run there is continued (resume_from_checkpoint),
    /// replaced (overwrite_output_dir) or refused; a finished run has nothing to resume. What starting over deletes
    /// never holds one of <paramref name="inputs"/> (the job's: init_from, data_dir, a model, dialogues), the working
    /// directory or its ancestors.
    /// </summary>
    public static Plan Check(TrainingArguments o, IEnumerable<string?> inputs)
    {
        string outputDir = Path.GetFullPath(o.OutputDir);
        if (File.Exists(outputDir)) throw new GptSharpException($"output_dir '{o.OutputDir}' is a file, not a directory");
        OutputDirectory.CheckWritable(outputDir, $"output_dir '{o.OutputDir}'");
        string? resume = o.ResumeFromCheckpoint switch
        {
            null => null,
            "latest" => CheckpointStore.Latest(outputDir),
            var path when File.Exists(Path.Combine(path, TrainerState.FileName)) => Path.GetFullPath(path),
            var path => throw new GptSharpException($"resume_from_checkpoint: '{path}' is not a checkpoint directory (no {TrainerState.FileName})"),
        };
        if (resume is not null) return new Plan(resume, []);

        var previous = CheckpointStore.List(outputDir).Select(c => c.Path)
            .Concat(new[] { Trainer.RunFile, MetricsLog.FileName, Trainer.FinalDir }.Select(a => Path.Combine(outputDir, a)).Where(Path.Exists))
            .ToList();
        if (previous.Count == 0) return new Plan(null, []);
        const string overwrite = "--overwrite (overwrite_output_dir=true)";
        if (!o.OverwriteOutputDir && o.ResumeFromCheckpoint != "latest")
            throw new GptSharpException($"output_dir '{o.OutputDir}' already holds a training run; pass --set resume_from_checkpoint=latest " +
                                        $"to continue it, or {overwrite} to start over");
        // "latest" with no checkpoint starts over, so rerunning the same command after an early interrupt just works;
        // but a finished run is no early interrupt: starting over would delete its final model.
        if (!o.OverwriteOutputDir && Directory.Exists(Path.Combine(outputDir, Trainer.FinalDir)))
            throw new GptSharpException($"resume_from_checkpoint=latest: output_dir '{o.OutputDir}' holds a finished run ({Trainer.FinalDir}/) " +
                                        $"and no checkpoint to resume from, so there is nothing to resume; pass {overwrite} to train it again, " +
                                        "or choose a new output_dir");
        var protectedInputs = inputs.ToList();
        foreach (var path in previous) OutputDirectory.CheckDeletable(path, protectedInputs);
        return new Plan(null, previous);
    }
}
