using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GptSharp.Training;

/// <summary>torch.optim.Adam (<c>optim: adam</c>): weight decay is an L2 term added to the gradient (unlike AdamW).</summary>
public sealed class AdamOptimizer : TrainingOptimizer
{
    readonly Adam _adam;

    public AdamOptimizer(nn.Module model, TrainingOptions o) : base(model)
    {
        _adam = optim.Adam(
        [
            new Adam.ParamGroup(Decayed, o.LearningRate, o.AdamBeta1, o.AdamBeta2, o.AdamEpsilon, o.WeightDecay),
            new Adam.ParamGroup(NotDecayed, o.LearningRate, o.AdamBeta1, o.AdamBeta2, o.AdamEpsilon, 0.0),
        ], o.LearningRate, o.AdamBeta1, o.AdamBeta2, o.AdamEpsilon);
    }

    protected override OptimizerHelper Inner => _adam;

    protected override IEnumerable<OptimizerStateSlot> Slots(Parameter parameter, OptimizerState state)
    {
        var s = (Adam.State)state;
        yield return OptimizerStateSlot.Tensor("exp_avg", parameter, () => s.exp_avg, t => s.exp_avg = t);
        yield return OptimizerStateSlot.Tensor("exp_avg_sq", parameter, () => s.exp_avg_sq, t => s.exp_avg_sq = t);
        yield return OptimizerStateSlot.Step("step", () => s.step, v => s.step = v);
    }
}
