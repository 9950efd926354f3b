using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GptSharp.Training;

/// <summary>
/// The optimizers <c>optim</c> can name, as one table: how to build the torch optimizer over the two param groups
/// (decayed, not decayed) and which per-parameter state slots to save for exact resume. Weight decay is decoupled for
/// adamw and an L2 term added to the gradient for the others.
/// </summary>
public static class TrainingOptimizers
{
    /// <summary>Builds a torch optimizer with exactly two param groups: the decayed parameters, then the rest.</summary>
    delegate OptimizerHelper Factory(Parameter[] decayed, Parameter[] notDecayed, TrainingArguments o);

    /// <summary>A parameter's state slots in the torch optimizer's state; their names are optimizer.safetensors' keys.</summary>
    delegate IEnumerable<OptimizerStateSlot> Slots(Parameter parameter, OptimizerState state);

    sealed record Entry(Factory Create, Slots Slots);

    static readonly Dictionary<string, Entry> Table = new()
    {
        // torch.optim.AdamW: weight decay applied to the weights directly, not through the gradient.
        ["adamw"] = new((d, n, o) => optim.AdamW(
            [
                new AdamW.ParamGroup(d, o.LearningRate, o.AdamBeta1, o.AdamBeta2, o.AdamEpsilon, o.WeightDecay),
                new AdamW.ParamGroup(n, o.LearningRate, o.AdamBeta1, o.AdamBeta2, o.AdamEpsilon, 0.0),
            ], o.LearningRate, o.AdamBeta1, o.AdamBeta2, o.AdamEpsilon),
            (p, state) =>
            {
                var s = (AdamW.State)state;
                return
                [
                    OptimizerStateSlot.Tensor("exp_avg", p, () => s.exp_avg, t => s.exp_avg = t),
                    OptimizerStateSlot.Tensor("exp_avg_sq", p, () => s.exp_avg_sq, t => s.exp_avg_sq = t),
                    OptimizerStateSlot.Step("step", () => s.step, v => s.step = v),
                ];
            }),
        // torch.optim.Adam: weight decay is an L2 term added to the gradient.
        ["adam"] = new((d, n, o) => optim.Adam(
            [
                new Adam.ParamGroup(d, o.LearningRate, o.AdamBeta1, o.AdamBeta2, o.AdamEpsilon, o.WeightDecay),
                new Adam.ParamGroup(n, o.LearningRate, o.AdamBeta1, o.AdamBeta2, o.AdamEpsilon, 0.0),
            ], o.LearningRate, o.AdamBeta1, o.AdamBeta2, o.AdamEpsilon),
            (p, state) =>
            {
                var s = (Adam.State)state;
                return
                [
                    OptimizerStateSlot.Tensor("exp_avg", p, () => s.exp_avg, t => s.exp_avg = t),
                    OptimizerStateSlot.Tensor("exp_avg_sq", p, () => s.exp_avg_sq, t => s.exp_avg_sq = t),
                    OptimizerStateSlot.Step("step", () => s.step, v => s.step = v),
                ];
            }),
        // torch.optim.SGD with sgd_momentum, sgd_dampening, sgd_nesterov; the momentum buffer exists from the first step on.
        ["sgd"] = new((d, n, o) => optim.SGD(
            [
                new SGD.ParamGroup(d, o.LearningRate, o.SgdMomentum, o.SgdDampening, o.WeightDecay, o.SgdNesterov),
                new SGD.ParamGroup(n, o.LearningRate, o.SgdMomentum, o.SgdDampening, 0.0, o.SgdNesterov),
            ], o.LearningRate, o.SgdMomentum, o.SgdDampening, 0.0, o.SgdNesterov),
            (p, state) =>
            {
                var s = (SGD.State)state;
                return [OptimizerStateSlot.Tensor("momentum_buffer", p, () => s.momentum_buffer, t => s.momentum_buffer = t)];
            }),
        // torch.optim.RMSprop with rmsprop_alpha, rmsprop_momentum, rmsprop_epsilon.
        ["rmsprop"] = new((d, n, o) => optim.RMSProp(
            [
                new RMSProp.ParamGroup(d, lr: o.LearningRate, eps: o.RmspropEpsilon, alpha: o.RmspropAlpha, weight_decay: o.WeightDecay, momentum: o.RmspropMomentum),
                new RMSProp.ParamGroup(n, lr: o.LearningRate, eps: o.RmspropEpsilon, alpha: o.RmspropAlpha, weight_decay: 0.0, momentum: o.RmspropMomentum),
            ], lr: o.LearningRate, alpha: o.RmspropAlpha, eps: o.RmspropEpsilon, momentum: o.RmspropMomentum),
            (p, state) =>
            {
                var s = (RMSProp.State)state;
                return
                [
                    OptimizerStateSlot.Tensor("square_avg", p, () => s.square_avg, t => s.square_avg = t),
                    OptimizerStateSlot.Tensor("momentum_buffer", p, () => s.momentum_buffer, t => s.momentum_buffer = t),
                    OptimizerStateSlot.Tensor("grad_avg", p, () => s.grad_avg, t => s.grad_avg = t),
                    OptimizerStateSlot.Step("step", () => s.step, v => s.step = v),
                ];
            }),
    };

    public static IReadOnlyCollection<string> Names => Table.Keys;

    public static TrainingOptimizer Create(nn.Module model, TrainingArguments options) =>
        Table.TryGetValue(options.Optim, out var entry)
            ? new TrainingOptimizer(model, (d, n) => entry.Create(d, n, options), (p, state) => entry.Slots(p, state))
            : throw new GptSharpException($"unknown optim '{options.Optim}' (expected one of: {string.Join(", ", Names)})");
}
