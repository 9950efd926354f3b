using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Models;

/// <summary>The feed-forward half of a block: expand 4×, tanh-approximated GELU (GPT-2's "gelu_new"), project back.</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>, IReplaceableChildren
{
    // nn.Linear, or what quantisation put in their place.
    nn.Module<Tensor, Tensor> c_fc, c_proj;
    readonly nn.Module<Tensor, Tensor> dropout;
    readonly MatmulPrecision _precision;
    readonly KeptCasts _c_fcCasts, _c_projCasts;

    public Mlp(GptConfig config, MatmulPrecision precision) : base(nameof(Mlp))
    {
        _precision = precision;
        (_c_fcCasts, _c_projCasts) = (precision.ForLayer(), precision.ForLayer());
        c_fc = nn.Linear(config.NEmbd, 4 * config.NEmbd);
        c_proj = nn.Linear(4 * config.NEmbd, config.NEmbd);
        dropout = nn.Dropout(config.Dropout);
        RegisterComponents();
    }

    nn.Module<Tensor, Tensor> IReplaceableChildren.ReplaceChild(string name, nn.Module<Tensor, Tensor> module)
    {
        var old = name switch { nameof(c_fc) => c_fc, nameof(c_proj) => c_proj, _ => throw ChildReplacement.Unknown(this, name) };
        if (name == nameof(c_fc)) c_fc = module; else c_proj = module;
        ChildReplacement.Register(this, name, module);
        return old;
    }

    public override Tensor forward(Tensor x)
    {
        var hidden = nn.functional.gelu(_precision.Linear(x, c_fc, _c_fcCasts), TorchSharp.Modules.GELU.Approximate.tanh);
        return dropout.forward(_precision.Linear(hidden, c_proj, _c_projCasts));
    }
}
