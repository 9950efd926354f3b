using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Models.Quantized;

/// <summary>
/// A token embedding kept only as int8 rows, which is also the model's tied LM head: put where <c>wte</c> was by
/// <see cref="Int8WeightOnly.Quantize"/>. Looking up a token dequantises its row (float32, as the float embedding
/// gives); the head multiplies with <see cref="Int8MatMul"/> like any <see cref="Int8Linear"/>.
/// </summary>
public sealed class Int8TokenEmbedding : nn.Module<Tensor, Tensor>, ITiedTokenEmbedding
{
    readonly Int8Linear head;

    public Int8TokenEmbedding(Int8Linear head) : base(nameof(Int8TokenEmbedding))
    {
        if (head.Bias is not null) throw new ArgumentException("a tied embedding has no bias");
        this.head = head;
        RegisterComponents();
    }

    /// <summary>The rows as the int8 LM head multiplies with them.</summary>
    public Int8Linear Weights => head;

    /// <summary>Rows <paramref name="ids"/> ([...] → [..., C] in float32).</summary>
    public override Tensor forward(Tensor ids)
    {
        if (is_grad_enabled()) throw Int8WeightOnly.InferenceOnly();
        using var flat = ids.reshape(-1);
        using var rows = head.Values.index_select(0, flat);
        using var scales = head.Scale.index_select(0, flat);
        using var values = Int8Weights.Dequantize(rows, scales);
        var shape = ids.shape.Append(head.InFeatures).ToArray();
        return values.view(shape);
    }

    /// <summary>Logits x · Wᵀ in bfloat16.</summary>
    public Tensor Head(Tensor x) => head.forward(x);
}
