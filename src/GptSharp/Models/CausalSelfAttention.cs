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
    /// Several sequences packed into one row (<paramref name="x"/> is [1, ΣTᵢ, C]), each continuing its slot of
    /// <paramref name="cache"/>: the projections run over all tokens at once; the rows that decode one token attend
    /// together in one masked operation over their slots, and prompt chunks attend one by one.
    /// </summary>
    internal Tensor ForwardPacked(Tensor x, KvSlots cache, PackedStep step, int layer)
    {
        long total = x.shape[1];
        int h = _config.NHead, d = _config.HeadSize;
        using var qkv = _precision.Linear(x, c_attn, _c_attnCasts).view(total, 3, h, d);
        using var q = qkv.select(1, 0);
        using var k = qkv.select(1, 1);
        using var v = qkv.select(1, 2);
        using var like = k.unsqueeze(2);
        var (keys, values) = cache.Layer(layer, like);
        var y = empty([total, h, d], q.dtype, q.device);
        if (step.DecodeCount > 0) Decode(q, k, v, keys, values, step, y);
        foreach (int r in step.PrefillRows)
        {
            var row = step.Rows[r];
            using var scope = NewDisposeScope();
            Tensor Part(Tensor a) => a.narrow(0, row.Start, row.Length).transpose(0, 1).unsqueeze(0); // [1, H, t, D]
            var slotKeys = keys[row.Slot];
            var slotValues = values[row.Slot];
            slotKeys.narrow(1, row.Past, row.Length).copy_(Part(k)[0]);
            slotValues.narrow(1, row.Past, row.Length).copy_(Part(v)[0]);
            var all = row.Past + row.Length;
            var o = Attention(Part(q), slotKeys.narrow(1, 0, all).unsqueeze(0), slotValues.narrow(1, 0, all).unsqueeze(0), row.Past, x.device);
            y.narrow(0, row.Start, row.Length).copy_(o[0].transpose(0, 1));
        }
        var merged = y.view(1, total, _config.NEmbd);
        return resid_dropout.forward(_precision.Linear(merged, c_proj, _c_projCasts));
    }

    /// <summary>Every one-token row at once: their keys into their slots, then one attention over the slots with a mask for each slot's length.</summary>
    static void Decode(Tensor q, Tensor k, Tensor v, Tensor keys, Tensor values, PackedStep step, Tensor y)
    {
        using var scope = NewDisposeScope();
        int n = step.DecodeCount;
        Tensor qd, kd, vd;
        if (step.DecodeContiguous) (qd, kd, vd) = (q.narrow(0, 0, n), k.narrow(0, 0, n), v.narrow(0, 0, n));
        else (qd, kd, vd) = (q.index_select(0, step.DecodePacked!), k.index_select(0, step.DecodePacked!), v.index_select(0, step.DecodePacked!));
        var at = new[] { TensorIndex.Tensor(step.DecodeSlots!), TensorIndex.Colon, TensorIndex.Tensor(step.DecodePast!) };
        keys.index_put_(kd, at);
        values.index_put_(vd, at);
        Tensor query;
        if (step.DecodeContiguous) query = qd.unsqueeze(2);
        else
        {
            query = zeros([step.AttendSlots, qd.shape[1], 1, qd.shape[2]], qd.dtype, qd.device);
            query.index_copy_(0, step.DecodeSlots!, qd.unsqueeze(2));
        }
        var o = nn.functional.scaled_dot_product_attention(query,
            keys.narrow(0, 0, step.AttendSlots).narrow(2, 0, step.AttendLength),
            values.narrow(0, 0, step.AttendSlots).narrow(2, 0, step.AttendLength), step.Mask!).squeeze(2);
        if (step.DecodeContiguous) y.narrow(0, 0, n).copy_(o);
        else y.index_copy_(0, step.DecodePacked!, o.index_select(0, step.DecodeSlots!));
    }

    Tensor Heads(Tensor a, long b, long t) => a.view(b, t, _config.NHead, _config.HeadSize).transpose(1, 2); // [B, H, T, D]

    /// <summary>Attention of new queries q ([B, H, T, D]) over the cached past and the new keys, which join the cache.</summary>
    Tensor Attend(Tensor q, Tensor k, Tensor v, KvCache? cache, int layer, Device device)
    {
        int past = cache?.Length ?? 0;
        if (cache is not null) (k, v) = cache.Append(layer, k, v);

        return Attention(q, k, v, past, device);
    }

    /// <summary>New queries (at positions past..past+t-1) over keys 0..past+t-1: query i may see keys 0..past+i.</summary>
    Tensor Attention(Tensor q, Tensor k, Tensor v, int past, Device device)
    {
        long t = q.shape[2];
        double p = training ? _config.Dropout : 0.0;
        if (past == 0)
            return nn.functional.scaled_dot_product_attention(q, k, v, p: p, is_casual: t > 1);
        if (t == 1)
            return nn.functional.scaled_dot_product_attention(q, k, v, p: p); // one new query sees every past position
        using var mask = ones(t, past + t, ScalarType.Bool, device).tril(past);
        return nn.functional.scaled_dot_product_attention(q, k, v, mask, p);
    }
}
