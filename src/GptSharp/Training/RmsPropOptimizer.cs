using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GptSharp.Training;

/// <summary>
/// torch.optim.RMSprop (<c>optim: rmsprop</c>) with <c>rmsprop_alpha</c>, <c>rmsprop_momentum</c> and
/// <c>rmsprop_epsilon</c>; weight decay is an L2 term added to the gradient.
/// </summary>
public sealed class RmsPropOptimizer : TrainingOptimizer
{
    readonly RMSProp _rmsprop;

    public RmsPropOptimizer(nn.Module model, TrainingOptions o) : base(model)
    {
        _rmsprop = optim.RMSProp(
        [
            new RMSProp.ParamGroup(Decayed, lr: o.LearningRate, eps: o.RmspropEpsilon, alpha: o.RmspropAlpha, weight_decay: o.WeightDecay, momentum: o.RmspropMomentum),
            new RMSProp.ParamGroup(NotDecayed, lr: o.LearningRate, eps: o.RmspropEpsilon, alpha: o.RmspropAlpha, weight_decay: 0.0, momentum: o.RmspropMomentum),
        ], lr: o.LearningRate, alpha: o.RmspropAlpha, eps: o.RmspropEpsilon, momentum: o.RmspropMomentum);
    }

    protected override OptimizerHelper Inner => _rmsprop;

    protected override IEnumerable<OptimizerStateSlot> Slots(Parameter parameter, OptimizerState state)
    {
        var s = (RMSProp.State)state;
        yield return OptimizerStateSlot.Tensor("square_avg", parameter, () => s.square_avg, t => s.square_avg = t);
        yield return OptimizerStateSlot.Tensor("momentum_buffer", parameter, () => s.momentum_buffer, t => s.momentum_buffer = t);
        yield return OptimizerStateSlot.Tensor("grad_avg", parameter, () => s.grad_avg, t => s.grad_avg = t);
        yield return OptimizerStateSlot.Step("step", () => s.step, v => s.step = v);
    }
}
