namespace GptSharp.Training;

/// <summary>
/// Hooks into a <see cref="Trainer"/>'s loop, as Hugging Face's <c>TrainerCallback</c>: the Trainer calls every hook on
/// its training thread, built-in callbacks (metrics log, progress, best checkpoint, early stopping) first, then those
/// given in <see cref="Trainer.Callbacks"/> in order. A hook may stop the run through
/// <see cref="TrainerControl.Stop"/>: the loop finishes the current step (and its checkpoint, if one is due), then
/// writes final/ as after early stopping. Hooks run inside the loop: keep them cheap, and never draw from torch's
/// random generator (exact resume depends on it).
/// </summary>
public abstract class TrainerCallback
{
    /// <summary>Before the first step (after resuming, if the run resumes).</summary>
    public virtual void OnTrainBegin(TrainerControl control) { }

    /// <summary>After every optimizer step.</summary>
    public virtual void OnStepEnd(TrainerControl control, TrainingStep step) { }

    /// <summary>
    /// After every evaluation, with its metrics (<c>val_loss</c>, <c>val_ppl</c>). This is the hook a tuner reports
    /// intermediate values through and prunes with (<see cref="TrainerControl.Stop"/>).
    /// </summary>
    public virtual void OnEvaluate(TrainerControl control, TrainingEvaluation evaluation) { }

    /// <summary>After a checkpoint-N or final/ was written to <paramref name="dir"/>.</summary>
    public virtual void OnSave(TrainerControl control, string dir) { }

    /// <summary>Something worth telling the user: the run resumed, stopped early, skipped a damaged checkpoint.</summary>
    public virtual void OnMessage(TrainerControl control, string message, string? path) { }

    /// <summary>After the last step (or the step the run stopped at), before final/ is written; not called on cancellation.</summary>
    public virtual void OnTrainEnd(TrainerControl control) { }
}
