using GptSharp.Data;
using GptSharp.Models;
using static TorchSharp.torch;

namespace GptSharp.Training;

/// <summary>
/// What a <see cref="Trainer"/> minimises on each micro-batch, when not the model's next-token cross-entropy (e.g.
/// distillation's loss against a teacher). Evaluation keeps the plain cross-entropy, so val_loss compares across jobs.
/// </summary>
public interface ITrainingLoss
{
    /// <summary>
    /// The scalar loss of <paramref name="model"/> on <paramref name="batch"/> (targets of -100, or a false loss mask,
    /// do not count), created in the caller's dispose scope. <paramref name="step"/> (1-based) and
    /// <paramref name="microBatch"/> say where in the run it is: any randomness drawn from them resumes exactly.
    /// </summary>
    Tensor Loss(Gpt model, Batch batch, int step, int microBatch);
}
