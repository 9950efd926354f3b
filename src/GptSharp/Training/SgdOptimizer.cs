using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GptSharp.Training;

/// <summary>
/// torch.optim.SGD (<c>optim: sgd</c>) with <c>sgd_momentum</c>, <c>sgd_dampening</c> and <c>sgd_nesterov</c>; weight
/// decay is an L2 term added to the gradient. The momentum buffer exists from the first step on.
/// </summary>
public sealed class SgdOptimizer : TrainingOptimizer
{
    readonly SGD _sgd;

    public SgdOptimizer(nn.Module model, TrainingOptions o) : base(model)
    {
        _sgd = optim.SGD(
        [
            new SGD.ParamGroup(Decayed, o.LearningRate, o.SgdMomentum, o.SgdDampening, o.WeightDecay, o.SgdNesterov),
            new SGD.ParamGroup(NotDecayed, o.LearningRate, o.SgdMomentum, o.SgdDampening, 0.0, o.SgdNesterov),
        ], o.LearningRate, o.SgdMomentum, o.SgdDampening, 0.0, o.SgdNesterov);
    }

    protected override OptimizerHelper Inner => _sgd;

    protected override IEnumerable<OptimizerStateSlot> Slots(Parameter parameter, OptimizerState state)
    {
        var s = (SGD.State)state;
        yield return OptimizerStateSlot.Tensor("momentum_buffer", parameter, () => s.momentum_buffer, t => s.momentum_buffer = t);
    }
}
