using GptSharp.Checkpoints;
using GptSharp.Models;

namespace GptSharp.Training;

/// <summary>
/// Keeps track of the checkpoint with the lowest val loss (rotation never deletes it) and, with
/// load_best_model_at_end, puts its weights back into the model before final/ is written, unless the last step is at
/// least as good. A checkpoint's val loss is the evaluation at its own step (load_best_model_at_end makes sure there is one).
/// </summary>
sealed class BestCheckpointCallback(Gpt model, bool loadBestModelAtEnd) : TrainerCallback
{
    TrainingEvaluation? _last;

    /// <summary>The last evaluation's val loss, if any.</summary>
    public double? LastValLoss => _last?.ValLoss;

    public override void OnEvaluate(TrainerControl control, TrainingEvaluation evaluation) => _last = evaluation;

    /// <summary>Called by the Trainer just before it writes a checkpoint of the current step, so the state it saves says whether it is the best.</summary>
    public void BeforeSave(TrainerControl control)
    {
        var state = control.State;
        if (_last is { } e && e.Step == state.GlobalStep && (state.BestCheckpointValLoss is not { } bestSaved || e.ValLoss < bestSaved))
            control.State = state with { BestCheckpointStep = state.GlobalStep, BestCheckpointValLoss = e.ValLoss };
    }

    /// <summary>The best checkpoint's directory, if one was saved after an evaluation.</summary>
    public static string? Path(TrainerControl control) =>
        control.State.BestCheckpointStep is { } b ? CheckpointStore.PathFor(control.OutputDir, b) : null;

    /// <summary>Copies the best checkpoint's weights into the model when it beats the last step; returns what to tell the user, or null.</summary>
    public string? RestoreBest(TrainerControl control)
    {
        var state = control.State;
        if (!loadBestModelAtEnd || state.BestCheckpointStep is not { } bestStep || bestStep == state.GlobalStep
            || (_last is { } e && e.Step == state.GlobalStep && e.ValLoss <= state.BestCheckpointValLoss))
            return null;
        // The best checkpoint beats the last step: final/ gets its weights (rotation never deleted it).
        using var best = HfCheckpoint.Load(CheckpointStore.PathFor(control.OutputDir, bestStep));
        ModelWeights.Copy(best, model);
        return $"final/ holds the best checkpoint's weights (step {bestStep}, val loss {state.BestCheckpointValLoss:F4})";
    }
}
