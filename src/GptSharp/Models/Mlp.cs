using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Models;

/// <summary>The feed-forward half of a block: expand 4×, tanh-approximated GELU (GPT-2's "gelu_new"), project back.</summary>
public sealed class Mlp : nn.Module<Tensor, Tensor>
{
    readonly nn.Module<Tensor, Tensor> c_fc, c_proj, dropout;
    readonly MatmulPrecision _precision;

    public Mlp(GptConfig config, MatmulPrecision precision) : base(nameof(Mlp))
    {
        _precision = precision;
        c_fc = nn.Linear(config.NEmbd, 4 * config.NEmbd);
        c_proj = nn.Linear(4 * config.NEmbd, config.NEmbd);
        dropout = nn.Dropout(config.Dropout);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        var hidden = nn.functional.gelu(_precision.Linear(x, c_fc), TorchSharp.Modules.GELU.Approximate.tanh);
        return dropout.forward(_precision.Linear(hidden, c_proj));
    }
}
