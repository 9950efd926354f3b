using static TorchSharp.torch;

namespace GptSharp.Models;

/// <summary>
/// A token embedding other than a float <c>nn.Embedding</c> (an int8 one, put in place by quantisation) that is also the
/// model's tied LM head: <see cref="Gpt"/> looks tokens up through its <c>forward</c> and computes logits with <see cref="Head"/>.
/// </summary>
public interface ITiedTokenEmbedding
{
    /// <summary>Logits x · Wᵀ for hidden states x [..., C].</summary>
    Tensor Head(Tensor x);
}
