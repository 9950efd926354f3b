using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GptSharp.Training;

/// <summary>torch.optim.AdamW (<c>optim: adamw</c>): Adam with weight decay applied to the weights directly, not through the gradient.</summary>
public sealed class AdamWOptimizer : TrainingOptimizer
{
    readonly AdamW _adamw;

    public AdamWOptimizer(nn.Module model, TrainingOptions o) : base(model)
    {
        _adamw = optim.AdamW(
        [
            new AdamW.ParamGroup(Decayed, o.LearningRate, o.AdamBeta1, o.AdamBeta2, o.AdamEpsilon, o.WeightDecay),
            new AdamW.ParamGroup(NotDecayed, o.LearningRate, o.AdamBeta1, o.AdamBeta2, o.AdamEpsilon, 0.0),
        ], o.LearningRate, o.AdamBeta1, o.AdamBeta2, o.AdamEpsilon);
    }

    protected override OptimizerHelper Inner => _adamw;

    protected override IEnumerable<OptimizerStateSlot> Slots(Parameter parameter, OptimizerState state)
    {
        var s = (AdamW.State)state;
        yield return OptimizerStateSlot.Tensor("exp_avg", parameter, () => s.exp_avg, t => s.exp_avg = t);
        yield return OptimizerStateSlot.Tensor("exp_avg_sq", parameter, () => s.exp_avg_sq, t => s.exp_avg_sq = t);
        yield return OptimizerStateSlot.Step("step", () => s.step, v => s.step = v);
    }
}
