using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using GptSharp.Checkpoints;

namespace GptSharp.Training;

/// <summary>
/// A torch optimizer with nanoGPT's grouping: weight decay on 2-D parameters (matmul weights, embeddings), none on
/// biases and LayerNorm gains. Its per-parameter state saves to and loads from safetensors, keyed
/// <c>PARAMETER_NAME.SLOT</c>, so a resumed run continues exactly. Subclasses say which torch optimizer and which
/// state slots; <see cref="TrainingOptimizers"/> maps <c>optim</c> names to them.
/// </summary>
public abstract class TrainingOptimizer : IDisposable
{
    public const string FileName = "optimizer.safetensors";

    /// <summary>Trainable parameters in the optimizer's state order (decayed group, then the rest).</summary>
    readonly (string Name, Parameter Parameter)[] _parameters;

    protected TrainingOptimizer(nn.Module model)
    {
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        Decayed = trainable.Where(p => p.parameter.dim() >= 2).Select(p => p.parameter).ToArray();
        NotDecayed = trainable.Where(p => p.parameter.dim() < 2).Select(p => p.parameter).ToArray();
        _parameters = [.. trainable.Where(p => p.parameter.dim() >= 2), .. trainable.Where(p => p.parameter.dim() < 2)];
    }

    /// <summary>Parameters that get weight decay (the first param group).</summary>
    protected Parameter[] Decayed { get; }
    /// <summary>Parameters without weight decay (the second param group).</summary>
    protected Parameter[] NotDecayed { get; }

    /// <summary>The torch optimizer, with exactly two param groups: <see cref="Decayed"/>, then <see cref="NotDecayed"/>.</summary>
    protected abstract OptimizerHelper Inner { get; }

    /// <summary>The state slots of one parameter's torch state.</summary>
    protected abstract IEnumerable<OptimizerStateSlot> Slots(Parameter parameter, OptimizerState state);

    public IEnumerable<Parameter> Parameters => _parameters.Select(p => p.Parameter);

    public double LearningRate
    {
        set { foreach (var g in Inner.ParamGroups) g.LearningRate = value; }
    }

    public void Step() => Inner.step();

    public void ZeroGrad() => Inner.zero_grad();

    IEnumerable<(string Name, Parameter Parameter, OptimizerState State)> States()
    {
        var states = Inner.state_dict().State;
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
            foreach (var slot in Slots(parameter, state))
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
        from s in States() from slot in Slots(s.Parameter, s.State) select ($"{s.Name}.{slot.Name}", slot, s.Parameter);

    public void Dispose()
    {
        Inner.Dispose();
        GC.SuppressFinalize(this);
    }
}
