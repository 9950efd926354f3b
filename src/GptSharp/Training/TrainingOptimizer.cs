using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using GptSharp.Checkpoints;

namespace GptSharp.Training;

/// <summary>
/// A torch optimizer with nanoGPT's grouping: weight decay on 2-D parameters (matmul weights, embeddings), none on
/// biases and LayerNorm gains. Its per-parameter state saves to and loads from safetensors, keyed
/// <c>PARAMETER_NAME.SLOT</c>, so a resumed run continues exactly. <see cref="TrainingOptimizers"/> makes one from its
/// table by <c>optim</c> name: which torch optimizer and which state slots.
/// </summary>
public sealed class TrainingOptimizer : IDisposable
{
    public const string FileName = "optimizer.safetensors";

    /// <summary>Trainable parameters in the optimizer's state order (decayed group, then the rest).</summary>
    readonly (string Name, Parameter Parameter)[] _parameters;
    /// <summary>The torch optimizer, with exactly two param groups: decayed (2-D) parameters, then the rest.</summary>
    readonly OptimizerHelper _inner;
    /// <summary>The state slots of one parameter's torch state.</summary>
    readonly Func<Parameter, OptimizerState, IEnumerable<OptimizerStateSlot>> _slots;

    internal TrainingOptimizer(nn.Module model, Func<Parameter[], Parameter[], OptimizerHelper> create,
        Func<Parameter, OptimizerState, IEnumerable<OptimizerStateSlot>> slots)
    {
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        var decayed = trainable.Where(p => p.parameter.dim() >= 2).ToArray();
        var notDecayed = trainable.Where(p => p.parameter.dim() < 2).ToArray();
        _parameters = [.. decayed, .. notDecayed];
        _inner = create([.. decayed.Select(p => p.parameter)], [.. notDecayed.Select(p => p.parameter)]);
        _slots = slots;
    }

    public IEnumerable<Parameter> Parameters => _parameters.Select(p => p.Parameter);

    public double LearningRate
    {
        set { foreach (var g in _inner.ParamGroups) g.LearningRate = value; }
    }

    public void Step() => _inner.step();

    public void ZeroGrad() => _inner.zero_grad();

    IEnumerable<(string Name, Parameter Parameter, OptimizerState State)> States()
    {
        var states = _inner.state_dict().State;
        if (states.Count != _parameters.Length)
            throw new InvalidOperationException($"optimizer holds {states.Count} states for {_parameters.Length} parameters");
        return _parameters.Zip(states, (p, s) => (p.Name, p.Parameter, s));
    }

    /// <summary>Writes every slot that exists as <c>NAME.SLOT</c>.</summary>
    public void Save(string path)
    {
        using var scope = NewDisposeScope(); // the writer's detached copies and the step scalars die here
        var tensors = new Dictionary<string, Tensor>();
        foreach (var (name, parameter, state) in States())
            foreach (var slot in _slots(parameter, state))
                if (slot.Get() is { } t) tensors[$"{name}.{slot.Name}"] = t;
        SafeTensors.Write(path, tensors);
    }

    /// <summary>Puts back what <see cref="Save"/> wrote; a slot that exists now must be in the file, with its shape.</summary>
    public void Load(string path)
    {
        var stored = SafeTensors.Read(path);
        try { Load(stored, path); }
        finally
        {
            foreach (var t in stored.Values) t.Dispose();
        }
    }

    /// <summary>Puts back tensors read from <paramref name="path"/>; all are checked (<see cref="Check"/>) before any is used.</summary>
    public void Load(IReadOnlyDictionary<string, Tensor> stored, string path)
    {
        Check(stored, path);
        using var _ = no_grad();
        foreach (var (key, slot, _) in Expected())
            if (stored.TryGetValue(key, out var t)) slot.Set(t);
    }

    /// <summary>Throws, naming <paramref name="path"/>, unless every slot that exists now is stored, with its shape.</summary>
    public void Check(IReadOnlyDictionary<string, Tensor> stored, string path)
    {
        foreach (var (key, slot, parameter) in Expected())
        {
            long[]? current = slot.Shape();
            if (!stored.TryGetValue(key, out var t))
            {
                if (current is null) continue; // not created when saved either (SGD's momentum before step 1)
                throw new GptSharpException($"{path}: missing '{key}'; was it saved with a different optim?");
            }
            long[] expected = current ?? parameter.shape;
            if (!t.shape.SequenceEqual(expected))
                throw new GptSharpException($"{path}: '{key}' has shape [{string.Join(", ", t.shape)}], expected [{string.Join(", ", expected)}]");
        }
    }

    IEnumerable<(string Key, OptimizerStateSlot Slot, Parameter Parameter)> Expected() =>
        from s in States() from slot in _slots(s.Parameter, s.State) select ($"{s.Name}.{slot.Name}", slot, s.Parameter);

    public void Dispose() => _inner.Dispose();
}
