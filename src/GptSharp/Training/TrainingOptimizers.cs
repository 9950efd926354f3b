using TorchSharp;

namespace GptSharp.Training;

/// <summary>The optimizers <c>optim</c> can name.</summary>
public static class TrainingOptimizers
{
    static readonly Dictionary<string, Func<torch.nn.Module, TrainingOptions, TrainingOptimizer>> Factories = new()
    {
        ["adamw"] = (m, o) => new AdamWOptimizer(m, o),
        ["adam"] = (m, o) => new AdamOptimizer(m, o),
        ["sgd"] = (m, o) => new SgdOptimizer(m, o),
        ["rmsprop"] = (m, o) => new RmsPropOptimizer(m, o),
    };

    public static IReadOnlyCollection<string> Names => Factories.Keys;

    public static TrainingOptimizer Create(torch.nn.Module model, TrainingOptions options) =>
        Factories.TryGetValue(options.Optim, out var f) ? f(model, options)
            : throw new GptSharpException($"unknown optim '{options.Optim}' (expected one of: {string.Join(", ", Names)})");
}
