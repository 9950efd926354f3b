using GptSharp.Models;
using static TorchSharp.torch;

namespace GptSharp.Evaluation;

/// <summary>How well a model predicts given token sequences: mean next-token cross-entropy, as Hugging Face's labels=input_ids.</summary>
public sealed class SequenceScorer(Gpt model)
{
    /// <summary>Mean cross-entropy of predicting ids[1..] from their prefixes; null for fewer than two tokens.</summary>
    public double? Loss(IReadOnlyList<int> ids)
    {
        int vocab = model.Config.VocabSize;
        for (int i = 0; i < ids.Count; i++)
            if (ids[i] < 0 || ids[i] >= vocab) throw new GptSharpException($"token id {ids[i]} at index {i} is outside the model's vocabulary (0..{vocab - 1})");
        if (ids.Count > model.Config.BlockSize)
            throw new GptSharpException($"{ids.Count} tokens exceed the model's context of {model.Config.BlockSize}");
        if (ids.Count < 2) return null;

        using var scope = NewDisposeScope();
        using var _ = no_grad();
        model.eval();
        var x = tensor(ids.Select(i => (long)i).ToArray(), device: model.Device).unsqueeze(0);
        var logits = model.Forward(x[.., ..^1]);
        return Gpt.Loss(logits, x[.., 1..]).to(ScalarType.Float64).item<double>();
    }
}
