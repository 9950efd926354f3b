using GptSharp.Interop;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace GptSharp.Training;

/// <summary>
/// torch.optim.AdamW with nanoGPT's grouping: weight decay on 2-D parameters (matmul weights, embeddings), none on
/// biases and LayerNorm gains. Its moments save to and load from safetensors, keyed by parameter name.
/// </summary>
public sealed class AdamWOptimizer : IDisposable
{
    public const string FileName = "optimizer.safetensors";

    readonly AdamW _adamw;
    /// <summary>Trainable parameters in the optimizer's state order (decayed group, then the rest).</summary>
    readonly (string Name, Parameter Parameter)[] _parameters;

    public AdamWOptimizer(nn.Module model, TrainingOptions o)
    {
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        var decay = trainable.Where(p => p.parameter.dim() >= 2).ToList();
        var noDecay = trainable.Where(p => p.parameter.dim() < 2).ToList();
        _parameters = [.. decay, .. noDecay];
        _adamw = optim.AdamW(
        [
            new AdamW.ParamGroup(decay.Select(p => p.parameter).ToArray(), o.LearningRate, o.AdamBeta1, o.AdamBeta2, o.AdamEpsilon, o.WeightDecay),
            new AdamW.ParamGroup(noDecay.Select(p => p.parameter).ToArray(), o.LearningRate, o.AdamBeta1, o.AdamBeta2, o.AdamEpsilon, 0.0),
        ], o.LearningRate, o.AdamBeta1, o.AdamBeta2, o.AdamEpsilon);
    }

    public IEnumerable<Parameter> Parameters => _parameters.Select(p => p.Parameter);

    public double LearningRate
    {
        set { foreach (var g in _adamw.ParamGroups) g.LearningRate = value; }
    }

    public void Step() => _adamw.step();

    public void ZeroGrad() => _adamw.zero_grad();

    IEnumerable<(string Name, AdamW.State State)> States() =>
        _parameters.Select(p => p.Name).Zip(_adamw.state_dict().State.Cast<AdamW.State>());

    /// <summary>Writes exp_avg, exp_avg_sq and step of each parameter as <c>NAME.exp_avg</c>, <c>NAME.exp_avg_sq</c>, <c>NAME.step</c>.</summary>
    public void Save(string path)
    {
        using var scope = NewDisposeScope(); // the writer's detached copies and the step scalars die here
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (name, s) in States())
        {
            tensors[$"{name}.exp_avg"] = s.exp_avg;
            tensors[$"{name}.exp_avg_sq"] = s.exp_avg_sq;
            tensors[$"{name}.step"] = tensor(s.step);
        }
        SafeTensors.Write(path, tensors);
    }

    public void Load(string path)
    {
        var stored = SafeTensors.Read(path);
        try
        {
            using var _ = no_grad();
            foreach (var (name, s) in States())
            {
                Tensor Get(string key, long[] shape)
                {
                    if (!stored.TryGetValue(key, out var t)) throw new GptSharpException($"{path}: missing '{key}'");
                    if (!t.shape.SequenceEqual(shape)) throw new GptSharpException($"{path}: '{key}' has shape [{string.Join(", ", t.shape)}], expected [{string.Join(", ", shape)}]");
                    return t;
                }
                s.exp_avg.copy_(Get($"{name}.exp_avg", s.exp_avg.shape));
                s.exp_avg_sq.copy_(Get($"{name}.exp_avg_sq", s.exp_avg_sq.shape));
                s.step = Get($"{name}.step", []).item<long>();
            }
        }
        finally
        {
            foreach (var t in stored.Values) t.Dispose();
        }
    }

    public void Dispose() => _adamw.Dispose();
}
