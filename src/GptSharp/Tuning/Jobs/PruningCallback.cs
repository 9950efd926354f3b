using GptSharp.Training;

namespace GptSharp.Tuning.Jobs;

/// <summary>
/// Reports each evaluation's val_loss to a trial and stops the run when the study's pruner says so: the bridge between
/// the trainer's evaluation hook and the tuner (Optuna's pruning integrations do the same for other trainers).
/// </summary>
public sealed class PruningCallback(Trial trial, Action<string>? log = null) : TrainerCallback
{
    /// <summary>Whether the pruner stopped the run.</summary>
    public bool Pruned { get; private set; }
    /// <summary>The step the run was pruned at.</summary>
    public int? PrunedAt { get; private set; }

    public override void OnEvaluate(TrainerControl control, TrainingEvaluation evaluation)
    {
        trial.Report(evaluation.Step, evaluation.ValLoss);
        log?.Invoke($"trial {trial.Number} step {evaluation.Step}/{control.MaxSteps}: val_loss {evaluation.ValLoss:F4}");
        // The last evaluation decides nothing: the run is over anyway, and its value is the trial's.
        if (evaluation.Step >= control.MaxSteps || !trial.ShouldPrune()) return;
        Pruned = true;
        PrunedAt = evaluation.Step;
        control.Stop($"pruned by the tuner at step {evaluation.Step}");
    }
}
