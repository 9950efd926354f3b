using GptSharp.Data;
using GptSharp.Models;
using GptSharp.Training;
using static TorchSharp.torch;

namespace GptSharp.Distillation;

/// <summary>
/// The <see cref="ITrainingLoss"/> of a distillation run: the teacher scores each micro-batch without gradients, in
/// eval mode (no dropout), and the student learns from <see cref="DistillationLoss"/>. A fraction lmbda of the
/// micro-batches are first made on-policy by <see cref="OnPolicySampler"/>.
/// </summary>
public sealed class DistillationObjective : ITrainingLoss
{
    readonly Gpt _teacher;
    readonly DistillationLoss.Weights _weights;
    readonly double _lmbda;
    readonly long _seed;
    readonly OnPolicySampler? _sampler;

    /// <param name="teacher">Put in eval mode here; the caller keeps ownership.</param>
    /// <param name="sampler">Needed when <paramref name="options"/>' lmbda &gt; 0.</param>
    public DistillationObjective(Gpt teacher, DistillationOptions options, OnPolicySampler? sampler = null)
    {
        if (options.Lmbda > 0 && sampler is null) throw new ArgumentException("lmbda > 0 needs an on-policy sampler", nameof(sampler));
        _teacher = teacher;
        _teacher.eval();
        foreach (var p in _teacher.parameters()) p.requires_grad = false;
        _weights = new DistillationLoss.Weights(options.Temperature, options.AlphaCe, options.AlphaClm, options.AlphaCos, options.Beta);
        _lmbda = options.Lmbda;
        _seed = options.Seed;
        _sampler = sampler;
    }

    public Tensor Loss(Gpt student, Batch batch, int step, int microBatch)
    {
        bool onPolicy = OnPolicySampler.IsOnPolicy(_lmbda, _seed, step, microBatch);
        if (onPolicy) batch = _sampler!.Sample(student, batch, step, microBatch);
        var targets = batch.LossMask is null ? batch.Targets : batch.Targets.masked_fill(batch.LossMask.logical_not(), -100);
        bool hidden = _weights.AlphaCos > 0;

        Tensor teacherLogits;
        Tensor? teacherHidden = null;
        using (no_grad())
        {
            if (hidden) (teacherHidden, teacherLogits) = _teacher.ForwardWithHidden(batch.Input);
            else teacherLogits = _teacher.Forward(batch.Input);
        }
        Tensor studentLogits;
        Tensor? studentHidden = null;
        if (hidden) (studentHidden, studentLogits) = student.ForwardWithHidden(batch.Input);
        else studentLogits = student.Forward(batch.Input);
        return DistillationLoss.Compute(studentLogits, teacherLogits, targets, _weights, studentHidden, teacherHidden, withCrossEntropy: !onPolicy);
    }
}
