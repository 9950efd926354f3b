using GptSharp.Inference;

namespace GptSharp.Tests.Inference;

/// <summary>How asked-for settings go over a model's defaults (<see cref="GenerationOptions.Override"/>), shared by generate, chat and the chat client.</summary>
public class GenerationOverridesTests
{
    static readonly GenerationOptions FromModel = new() { MaxNewTokens = 50, Temperature = 0.7, TopK = 10, RepetitionPenalty = 1.2 };

    [Fact]
    public void NothingAskedKeepsTheDefaults() => Assert.Equal(FromModel, FromModel.Override(new GenerationOverrides()));

    [Fact]
    public void EachAskedSettingReplacesItsDefault()
    {
        var o = FromModel.Override(new GenerationOverrides { MaxNewTokens = 5, TopP = 0.9, Seed = 3, StopSequences = ["END"], PromptOverflow = PromptOverflow.TrimStart });
        Assert.Equal((5, 0.7, 10, 0.9, 3L, 1.2, PromptOverflow.TrimStart), (o.MaxNewTokens, o.Temperature, o.TopK, o.TopP, o.Seed, o.RepetitionPenalty, o.PromptOverflow));
        Assert.Equal(["END"], o.StopSequences);
        Assert.True(o.DoSample);
    }

    [Fact]
    public void GreedyTurnsSamplingOff()
    {
        Assert.False(FromModel.Override(new GenerationOverrides { Greedy = true }).DoSample);
        Assert.True(FromModel.Override(new GenerationOverrides { Greedy = false }).DoSample);
        Assert.False((FromModel with { DoSample = false }).Override(new GenerationOverrides { Temperature = 0.5 }).DoSample);
    }

    [Fact]
    public void BeamSearchDoesNotSampleAndRefusesSamplingSettings()
    {
        var beams = FromModel.Override(new GenerationOverrides { NumBeams = 3 });
        Assert.False(beams.DoSample);
        Assert.Equal(3, beams.NumBeams);
        // Beams from the model's defaults count too.
        Assert.False((FromModel with { DoSample = false, NumBeams = 2 }).Override(new GenerationOverrides { MaxNewTokens = 4 }).DoSample);
        var e = Assert.Throws<GptSharpException>(() => FromModel.Override(new GenerationOverrides { NumBeams = 3, TopK = 5 }));
        Assert.Contains("cannot be combined with sampling", e.Message);
    }

    [Fact]
    public void TheResultIsChecked()
    {
        var e = Assert.Throws<GptSharpException>(() => FromModel.Override(new GenerationOverrides { Temperature = -1 }));
        Assert.Contains("temperature", e.Message);
    }
}
