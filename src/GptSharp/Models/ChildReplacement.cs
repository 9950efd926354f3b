using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Models;

/// <summary>The registration half of <see cref="IReplaceableChildren.ReplaceChild"/>, shared by the modules that implement it.</summary>
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
