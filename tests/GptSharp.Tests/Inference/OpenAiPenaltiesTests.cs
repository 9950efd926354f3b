using GptSharp.Inference;
using static TorchSharp.torch;

namespace GptSharp.Tests.Inference;

/// <summary>OpenAI's decoding knobs in the library: presence and frequency penalties, logit bias, min-p.</summary>
public class OpenAiPenaltiesTests
{
    static float[] Values(Tensor t) => t.data<float>().ToArray();

    [Fact]
    public void PenaltiesCountTheOutputOnlyAndBiasIsAdded()
    {
        using var logits = zeros(6);
        // Prompt 0, 1; output 2, 2, 3.
        int[] tokens = [0, 1, 2, 2, 3];
        var options = new GenerationOptions { PresencePenalty = 0.5, FrequencyPenalty = 0.25, LogitBias = new Dictionary<int, double> { [5] = 3, [0] = -1 } };
        using var adjusted = LogitsProcessing.Apply(logits, tokens, newTokens: 3, options, endIds: null);
        Assert.Equal([-1f, 0f, -1f, -0.75f, 0f, 3f], Values(adjusted));
    }

    [Fact]
    public void NeutralSettingsLeaveTheLogitsAlone()
    {
        using var logits = zeros(4);
        Assert.Same(logits, LogitsProcessing.Apply(logits, [1, 2], 1, new GenerationOptions(), null));
    }

    [Fact]
    public void MinPDropsTokensFarLessLikelyThanTheBest()
    {
        // Probabilities ∝ e^x: ids 0 and 1 are within 1/e of the best (id 0), id 2 is not.
        using var logits = tensor(new float[] { 2f, 1.5f, -1f });
        using var kept = Sampling.KeepMinP(logits, 0.5);
        Assert.Equal([true, true, false], Values(kept).Select(float.IsFinite));
    }

    [Fact]
    public void BadValuesAreRefusedNamingTheOption()
    {
        Assert.Contains("min_p", Assert.Throws<GptSharpException>(() => new GenerationOptions { MinP = 1.5 }.Validate()).Message);
        Assert.Contains("presence_penalty", Assert.Throws<GptSharpException>(() => new GenerationOptions { PresencePenalty = double.NaN }.Validate()).Message);
        Assert.Contains("logit_bias", Assert.Throws<GptSharpException>(() =>
            new GenerationOptions { LogitBias = new Dictionary<int, double> { [-1] = 1 } }.Validate()).Message);
        var over = new GenerationOptions().Override(new GenerationOverrides { FrequencyPenalty = 1, MinP = 0.1 });
        Assert.Equal((1.0, 0.1), (over.FrequencyPenalty, over.MinP));
    }
}
