using TorchSharp;

namespace GptSharp.Training;

/// <summary>Reports the run to an <see cref="IProgress{T}"/> as <see cref="TrainingProgress"/> events (the CLI's progress bar and log lines).</summary>
sealed class ProgressCallback(IProgress<TrainingProgress> progress) : TrainerCallback
{
    TrainingStep? _last;
    double? _lastValLoss;

    public override void OnStepEnd(TrainerControl control, TrainingStep step)
    {
        _last = step;
        progress.Report(new TrainingProgress
        {
            Event = TrainingEvent.Step, Step = step.Step, MaxSteps = control.MaxSteps, Loss = step.Loss, LearningRate = step.LearningRate,
            TokensPerSecond = step.TokensPerSecond, Elapsed = control.Elapsed, Eta = step.Eta,
            ValLoss = _lastValLoss, Logged = step.Logged, LiveTensors = DisposeScopeManager.Statistics.ThreadTotalLiveCount,
            BatchSize = control.Options.BatchSizeSchedule is null ? null : step.Batch.Sequences,
        });
    }

    public override void OnEvaluate(TrainerControl control, TrainingEvaluation evaluation)
    {
        _lastValLoss = evaluation.ValLoss;
        progress.Report(new TrainingProgress
        {
            Event = TrainingEvent.Evaluation, Step = evaluation.Step, MaxSteps = control.MaxSteps, Loss = _last?.Loss ?? 0,
            LearningRate = _last?.LearningRate ?? 0, ValLoss = evaluation.ValLoss, Elapsed = control.Elapsed,
        });
    }

    public override void OnSave(TrainerControl control, string dir) =>
        progress.Report(new TrainingProgress { Event = TrainingEvent.Checkpoint, Step = control.State.GlobalStep, MaxSteps = control.MaxSteps, Path = dir, Elapsed = control.Elapsed });

    public override void OnMessage(TrainerControl control, string message, string? path) =>
        progress.Report(new TrainingProgress
        {
            Event = TrainingEvent.Message, Step = control.State.GlobalStep, MaxSteps = control.MaxSteps, Path = path, Message = message, Elapsed = control.Elapsed,
        });
}
