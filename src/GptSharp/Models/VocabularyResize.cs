using TorchSharp;
using static TorchSharp.torch;

namespace GptSharp.Models;

/// <summary>
/// Grows a model's token embedding (and so its tied LM head), e.g. to give a stock GPT-2 checkpoint embeddings for the
/// chat role tokens. New rows start at the mean of the existing ones, so the new tokens begin as "an average token"
/// instead of dominating or vanishing in the softmax.
/// </summary>
public static class VocabularyResize
{
    /// <summary>A new model with <paramref name="vocabSize"/> rows; <paramref name="model"/> is left unchanged.</summary>
    public static Gpt Resize(Gpt model, int vocabSize)
    {
        int old = model.Config.VocabSize;
        if (vocabSize < old) throw new GptSharpException($"cannot shrink the vocabulary from {old} to {vocabSize} tokens");
        var source = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        if (!source.ContainsKey("wte.weight"))
            throw new GptSharpException("cannot resize the vocabulary: the model is quantised to int8 and has no float token embeddings; load it in fp32");
        var resized = new Gpt(model.Config with { VocabSize = vocabSize });
        using var _ = no_grad();
        foreach (var (name, p) in resized.named_parameters())
        {
            var s = source[name];
            if (name != "wte.weight") { p.copy_(s); continue; }
            p.narrow(0, 0, old).copy_(s);
            if (vocabSize > old) p.narrow(0, old, vocabSize - old).copy_(s.mean([0], keepdim: true).expand(vocabSize - old, -1));
        }
        if (model.Device.type != DeviceType.CPU) resized.to(model.Device);
        if (!model.training) resized.eval();
        return resized;
    }
}
