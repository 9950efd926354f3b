using GptSharp.Models;
using static TorchSharp.torch;
using GptSharp.Checkpoints;

namespace GptSharp.Training;

/// <summary>
/// A checkpoint directory read completely into memory and checked before any of it is trusted: trainer_state.json
/// parses and agrees with the directory's name, the torch RNG state has the right size, and config.json,
/// model.safetensors and optimizer.safetensors are whole files holding every tensor their header promises
/// (a truncated file fails here, before a resume changes anything). Whether the optimizer's tensors are the ones the
/// current optimizer needs is <see cref="TrainingOptimizer.Check"/>'s job.
/// </summary>
internal sealed class CheckpointContents : IDisposable
{
    public required string Dir { get; init; }
    public required TrainerState State { get; init; }
    public required Gpt Model { get; init; }
    public required Dictionary<string, Tensor> Optimizer { get; init; }
    public string OptimizerPath => Path.Combine(Dir, TrainingOptimizer.FileName);

    /// <summary>Throws a <see cref="GptSharpException"/> naming the file and what is wrong with it.</summary>
    public static CheckpointContents Read(string dir)
    {
        string statePath = Path.Combine(dir, TrainerState.FileName);
        var state = TrainerState.Read(statePath);
        if (CheckpointStore.StepOf(dir) is { } step && step != state.GlobalStep)
            throw new GptSharpException($"{statePath}: global_step is {state.GlobalStep}, but the directory is for step {step}");
        if (state.TorchRngState is { } rng)
        {
            int expected = RngStateLength();
            byte[] bytes;
            try { bytes = Convert.FromBase64String(rng); }
            catch (FormatException) { throw new GptSharpException($"{statePath}: torch_rng_state is not base64"); }
            if (bytes.Length != expected)
                throw new GptSharpException($"{statePath}: torch_rng_state has {bytes.Length} bytes, expected {expected}");
        }

        var model = HfCheckpoint.Load(dir);
        try
        {
            var optimizer = SafeTensors.Read(Path.Combine(dir, TrainingOptimizer.FileName));
            return new CheckpointContents { Dir = dir, State = state, Model = model, Optimizer = optimizer };
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    static int RngStateLength()
    {
        using var current = TorchSharp.torch.random.get_rng_state();
        return (int)current.numel();
    }

    public void Dispose()
    {
        Model.Dispose();
        foreach (var t in Optimizer.Values) t.Dispose();
    }
}
