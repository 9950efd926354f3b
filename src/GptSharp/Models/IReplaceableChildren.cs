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
