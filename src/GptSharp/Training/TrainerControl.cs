namespace GptSharp.Training;

/// <summary>
/// What a <see cref="TrainerCallback"/> sees of a running <see cref="Trainer"/> and how it steers it (Hugging Face's
/// <c>TrainerState</c> and <c>TrainerControl</c> in one): the options, the run's length and state, and
/// <see cref="Stop"/>.
/// </summary>
public sealed class TrainerControl
{
    readonly Func<TimeSpan> _elapsed;

    internal TrainerControl(TrainingArguments options, int maxSteps, string outputDir, TrainerState state, Func<TimeSpan> elapsed)
        => (Options, MaxSteps, OutputDir, State, _elapsed) = (options, maxSteps, outputDir, state, elapsed);

    public TrainingArguments Options { get; }
    /// <summary>The run's length: max_steps, or what num_train_epochs comes to on the train data.</summary>
    public int MaxSteps { get; }
    /// <summary>output_dir as a full path.</summary>
    public string OutputDir { get; }
    /// <summary>Where the run is: step, best val loss, evaluations without improvement (what a checkpoint saves).</summary>
    public TrainerState State { get; internal set; }
    /// <summary>Wall time of the whole run, including the parts before a resume.</summary>
    public TimeSpan Elapsed => _elapsed();

    /// <summary>Whether a callback has asked the run to stop.</summary>
    public bool ShouldStop { get; private set; }
    /// <summary>Why, in the words of the first callback that asked; reported to the user when the run stops.</summary>
    public string? StopReason { get; private set; }

    /// <summary>Stops the run after the current step; <paramref name="reason"/> is told to the user (the first reason wins).</summary>
    public void Stop(string reason)
    {
        StopReason ??= reason;
        ShouldStop = true;
    }
}
