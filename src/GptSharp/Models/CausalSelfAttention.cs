using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Models;

/// <summary>Multi-head masked self-attention: one fused q/k/v projection, scaled dot-product attention, output projection.</summary>
public sealed class CausalSelfAttention : nn.Module<Tensor, Tensor>, IReplaceableChildren
{
    // Field names are the GPT-2 parameter names (h.N.attn.c_attn.weight, …). The projections are nn.Linear, or what
    // quantisation put in their place.
    nn.Module<Tensor, Tensor> c_attn, c_proj;
    readonly nn.Module<Tensor, Tensor> resid_dropout;
    readonly GptConfig _config;
    readonly MatmulPrecision _precision;
    readonly KeptCasts _c_attnCasts, _c_projCasts;

    public CausalSelfAttention(GptConfig config, MatmulPrecision precision) : base(nameof(CausalSelfAttention))
    {
        _config = config;
        _precision = precision;
        (_c_attnCasts, _c_projCasts) = (precision.ForLayer(), precision.ForLayer());
        c_attn = nn.Linear(config.NEmbd, 3 * config.NEmbd);
        c_proj = nn.Linear(config.NEmbd, config.NEmbd);
        resid_dropout = nn.Dropout(config.Dropout);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x) => Forward(x, null, 0);

    nn.Module<Tensor, Tensor> IReplaceableChildren.ReplaceChild(string name, nn.Module<Tensor, Tensor> module)
    {
        var old = name switch { nameof(c_attn) => c_attn, nameof(c_proj) => c_proj, _ => throw ChildReplacement.Unknown(this, name) };
        if (name == nameof(c_attn)) c_attn = module; else c_proj = module;
        ChildReplacement.Register(this, name, module);
        return old;
    }

    internal Tensor Forward(Tensor x, KvCache? cache, int layer)
    {
        long b = x.shape[0], t = x.shape[1];
        var qkv = _precision.Linear(x, c_attn, _c_attnCasts).split(_config.NEmbd, dim: 2);
        var y = Attend(Heads(qkv[0], b, t), Heads(qkv[1], b, t), Heads(qkv[2], b, t), cache, layer, x.device);
        y = y.transpose(1, 2).contiguous().view(b, t, _config.NEmbd);
        return resid_dropout.forward(_precision.Linear(y, c_proj, _c_projCasts));
    }

    /// <summary>
    /// Several sequences packed into one row (<paramref name="x"/> is [1, ΣTᵢ, C]): the projections run over all their
    /// tokens at once, attention runs per sequence against its own cache. <paramref name="lengths"/>[i] tokens of
    /// sequence i follow those of sequence i-1.
    /// </summary>
    internal Tensor ForwardPacked(Tensor x, IReadOnlyList<KvCache> caches, IReadOnlyList<int> lengths, int layer)
    {
        var qkv = _precision.Linear(x, c_attn, _c_attnCasts).split(_config.NEmbd, dim: 2);
        var ys = new Tensor[caches.Count];
        for (int i = 0, start = 0; i < caches.Count; start += lengths[i], i++)
        {
            int t = lengths[i];
            Tensor Part(Tensor a) => Heads(a.narrow(1, start, t), 1, t);
            ys[i] = Attend(Part(qkv[0]), Part(qkv[1]), Part(qkv[2]), caches[i], layer, x.device).transpose(1, 2).reshape(1, t, _config.NEmbd);
        }
        var y = ys.Length == 1 ? ys[0] : cat(ys, 1);
        return resid_dropout.forward(_precision.Linear(y, c_proj, _c_projCasts));
    }

    Tensor Heads(Tensor a, long b, long t) => a.view(b, t, _config.NHead, _config.HeadSize).transpose(1, 2); // [B, H, T, D]

    /// <summary>Attention of new queries q ([B, H, T, D]) over the cached past and the new keys, which join the cache.</summary>
    Tensor Attend(Tensor q, Tensor k, Tensor v, KvCache? cache, int layer, Device device)
    {
        long t = q.shape[2];
        int past = cache?.Length ?? 0;
        if (cache is not null) (k, v) = cache.Append(layer, k, v);

        double p = training ? _config.Dropout : 0.0;
        if (past == 0)
            return nn.functional.scaled_dot_product_attention(q, k, v, p: p, is_casual: t > 1);
        if (t == 1)
            return nn.functional.scaled_dot_product_attention(q, k, v, p: p); // one new query sees every past position
        // New queries sit at positions past..past+t-1: query i may see keys 0..past+i.
        using var mask = ones(t, past + t, ScalarType.Bool, device).tril(past);
        return nn.functional.scaled_dot_product_attention(q, k, v, mask, p);
    }
}
