using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Models;

/// <summary>A pre-LayerNorm transformer block: x + attn(ln_1(x)), then x + mlp(ln_2(x)).</summary>
public sealed class Block : nn.Module<Tensor, Tensor>
{
    readonly nn.Module<Tensor, Tensor> ln_1, ln_2;
    readonly CausalSelfAttention attn;
    readonly Mlp mlp;

    public Block(GptConfig config, MatmulPrecision precision) : base(nameof(Block))
    {
        ln_1 = nn.LayerNorm(config.NEmbd, config.LayerNormEpsilon);
        attn = new CausalSelfAttention(config, precision);
        ln_2 = nn.LayerNorm(config.NEmbd, config.LayerNormEpsilon);
        mlp = new Mlp(config, precision);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => Forward(x, null, 0);

    internal Tensor Forward(Tensor x, KvCache? cache, int layer)
    {
        // A scope per block frees this block's temporaries as soon as it is done; autograd keeps what backward needs.
        using var scope = NewDisposeScope();
        x = x + attn.Forward(ln_1.forward(x), cache, layer);
        x = x + mlp.forward(ln_2.forward(x));
        return x.MoveToOuterDisposeScope();
    }

    /// <summary>The block over several sequences packed into one row (<see cref="CausalSelfAttention.ForwardPacked"/>).</summary>
    internal Tensor ForwardPacked(Tensor x, KvSlots cache, PackedStep step, int layer)
    {
        using var scope = NewDisposeScope();
        x = x + attn.ForwardPacked(ln_1.forward(x), cache, step, layer);
        x = x + mlp.forward(ln_2.forward(x));
        return x.MoveToOuterDisposeScope();
    }
}
