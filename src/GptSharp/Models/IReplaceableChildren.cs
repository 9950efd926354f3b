using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Models;

/// <summary>
/// A module whose layers can be swapped for other implementations in place, as quantisation does (torchao's
/// <c>quantize_</c>): the forward pass then calls the new module where it called the old one.
/// </summary>
internal interface IReplaceableChildren
{
    /// <summary>Puts <paramref name="module"/> where the child <paramref name="name"/> was (registered under the same name) and returns the old one, which the caller disposes.</summary>
    nn.Module<Tensor, Tensor> ReplaceChild(string name, nn.Module<Tensor, Tensor> module);
}

static class ChildReplacement
{
    /// <summary>Re-registers <paramref name="name"/> to point at <paramref name="module"/>; the field is the caller's to set.</summary>
    public static void Register(nn.Module parent, string name, nn.Module module)
    {
        parent.register_module(name, null!); // TorchSharp removes a name registered with null
        parent.register_module(name, module);
    }

    public static ArgumentException Unknown(nn.Module parent, string name) =>
        new($"{parent.GetType().Name} has no replaceable layer '{name}'");
}
