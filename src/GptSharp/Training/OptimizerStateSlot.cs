using static TorchSharp.torch;

namespace GptSharp.Training;

/// <summary>
/// One piece of an optimizer's per-parameter state (a moment, a momentum buffer, a step count) that is saved and put
/// back for exact resume. <see cref="Shape"/> is null while the optimizer has not created it yet (SGD's momentum before
/// its first step); <see cref="Get"/> then returns null too.
/// </summary>
public sealed record OptimizerStateSlot(string Name, Func<long[]?> Shape, Func<Tensor?> Get, Action<Tensor> Set)
{
    /// <summary>A tensor slot: loading copies into the existing tensor, or creates it (like the parameter) when absent.</summary>
    public static OptimizerStateSlot Tensor(string name, Tensor parameter, Func<Tensor?> get, Action<Tensor> set) =>
        new(name, () => get()?.shape, get, stored =>
        {
            if (get() is { } existing) existing.copy_(stored);
            else set(stored.to(parameter.dtype, parameter.device, copy: true).detach().DetachFromDisposeScope());
        });

    /// <summary>A step counter, stored as a 0-d int64 tensor.</summary>
    public static OptimizerStateSlot Step(string name, Func<long> get, Action<long> set) =>
        new(name, () => [], () => tensor(get()), stored => set(stored.item<long>()));
}
