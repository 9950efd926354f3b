using System.Text.Json.Nodes;

namespace GptSharp.Training;

/// <summary>Writes logging steps and evaluations to metrics.jsonl (<see cref="MetricsLog"/>).</summary>
sealed class MetricsLogCallback(MetricsLog log) : TrainerCallback
{
    public override void OnStepEnd(TrainerControl control, TrainingStep step)
    {
        if (!step.Logged) return;
        var entry = new JsonObject { ["step"] = step.Step, ["loss"] = step.Loss, ["lr"] = step.LearningRate };
        if (step.GradNorm is { } g) entry["grad_norm"] = g;
        entry["batch_size"] = step.Batch.Sequences;
        if (control.Options.BatchSizeSchedule is not null) // how the batch is formed, which changes only with a schedule
        {
            entry["micro_batch_size"] = step.Batch.MicroBatch;
            entry["gradient_accumulation_steps"] = step.Batch.Accumulation;
        }
        entry["tokens_per_sec"] = step.TokensPerSecond;
        entry["elapsed"] = control.Elapsed.TotalSeconds;
        log.Append(entry);
    }

    public override void OnEvaluate(TrainerControl control, TrainingEvaluation evaluation) =>
        log.Append(new JsonObject
        {
            ["step"] = evaluation.Step, ["val_loss"] = evaluation.ValLoss, ["val_ppl"] = evaluation.ValPerplexity,
            ["elapsed"] = control.Elapsed.TotalSeconds,
        });
}
