using GptSharp.Models;
using GptSharp.Tokenization;
using TorchSharp;
using GptSharp.Checkpoints;
using GptSharp.Inference;

namespace GptSharp.Tests.Inference;

/// <summary>Tiny real models whose every next token is one chosen id: a stand-in for a model with a habit.</summary>
static class BiasedModel
{
    /// <summary>A 1-layer GPT with room for GPT-2's role tokens (vocab 50261), whose every next token is <paramref name="favourite"/>.</summary>
    public static Gpt AlwaysSays(int favourite, int context = 64)
    {
        var model = Gpt.Create(new GptConfig { VocabSize = 50261, BlockSize = context, NLayer = 1, NHead = 2, NEmbd = 32 });
        using var _ = torch.no_grad();
        var p = model.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        // The final LayerNorm outputs its bias alone, e₀, so the logits are the first column of the (tied) embedding.
        p["ln_f.weight"].zero_();
        p["ln_f.bias"].zero_();
        p["ln_f.bias"][0] = 1;
        p["wte.weight"][favourite, 0] = 100;
        return model;
    }

    /// <summary>Such a model saved as a chat model directory (GPT-2's tokenizer with the role tokens), with
    /// <paramref name="generationConfig"/> as its generation_config.json when given.</summary>
    public static string SaveChatModel(string dir, int favourite, string? generationConfig = null, int context = 64)
    {
        using var model = AlwaysSays(favourite, context);
        new ModelDirectory(model, BpeTokenizer.Gpt2()).Save(dir);
        if (generationConfig is not null) File.WriteAllText(Path.Combine(dir, GenerationConfigFile.FileName), generationConfig);
        return dir;
    }
}
