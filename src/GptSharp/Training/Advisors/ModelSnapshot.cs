using GptSharp.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Training.Advisors;

/// <summary>
/// What a probe may change in a model, kept so that it can be put back exactly: a copy of every state-dict tensor
/// (parameters and buffers), the training flag, the compute precision and torch's CPU generator state. <see cref="Restore"/>
/// copies them back and drops the gradients; <see cref="Dispose"/> frees the copies.
/// </summary>
sealed class ModelSnapshot : IDisposable
{
    readonly Gpt _model;
    readonly Dictionary<string, Tensor> _tensors;
    readonly bool _training;
    readonly ScalarType? _computeType;
    readonly Tensor _rng;

    public ModelSnapshot(Gpt model)
    {
        _model = model;
        using (no_grad())
            _tensors = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
        _training = model.training;
        _computeType = model.Precision.ComputeType;
        _rng = torch.random.get_rng_state();
    }

    public void Restore()
    {
        using (no_grad())
            foreach (var (name, live) in _model.state_dict())
                live.copy_(_tensors[name]);
        _model.zero_grad();
        _model.train(_training);
        _model.Precision.ComputeType = _computeType;
        torch.random.set_rng_state(_rng);
    }

    public void Dispose()
    {
        foreach (var t in _tensors.Values) t.Dispose();
        _rng.Dispose();
    }
}
