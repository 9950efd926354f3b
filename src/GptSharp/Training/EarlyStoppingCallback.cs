namespace GptSharp.Training;

/// <summary>
/// Stops the run after <see cref="Patience"/> evaluations in a row without a lower val loss (Hugging Face's
/// <c>EarlyStoppingCallback</c>). The Trainer adds one for early_stopping_patience; the count lives in
/// <see cref="TrainerState.EvalsWithoutImprovement"/>, so it survives a resume.
/// </summary>
public sealed class EarlyStoppingCallback(int patience) : TrainerCallback
{
    public int Patience { get; } = patience >= 1 ? patience : throw new ArgumentOutOfRangeException(nameof(patience), "patience must be at least 1");

    public override void OnEvaluate(TrainerControl control, TrainingEvaluation evaluation)
    {
        var state = control.State;
        // At the last step there is nothing left to stop.
        if (state.EvalsWithoutImprovement >= Patience && evaluation.Step < control.MaxSteps)
            control.Stop($"early stopping at step {evaluation.Step}: val loss has not improved on {state.BestValLoss:F4} for {state.EvalsWithoutImprovement} evaluations");
    }
}
