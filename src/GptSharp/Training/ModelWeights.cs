using GptSharp.Models;
using static TorchSharp.torch;

namespace GptSharp.Training;

internal static class ModelWeights
{
    /// <summary>Copies every parameter of <paramref name="from"/> into the same-named one of <paramref name="to"/> (devices may differ).</summary>
    public static void Copy(Gpt from, Gpt to)
    {
        using var _ = no_grad();
        var target = to.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in from.named_parameters()) target[name].copy_(p);
    }
}
