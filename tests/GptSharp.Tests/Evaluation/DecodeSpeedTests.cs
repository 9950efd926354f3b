using GptSharp.Evaluation;
using GptSharp.Models;

namespace GptSharp.Tests.Evaluation;

public class DecodeSpeedTests
{
    [Fact]
    public void MeasuresEveryFigureWithLengthsCappedByTheContext()
    {
        using var model = Gpt.Create(new GptConfig { VocabSize = 50, BlockSize = 16, NLayer = 1, NHead = 2, NEmbd = 16 }, seed: 3);
        var speed = DecodeSpeed.Measure(model, [1, 2, 3], decodeTokens: 128, promptTokens: 256, repetitions: 2);
        Assert.Equal(15, speed.DecodeTokens);
        Assert.Equal(15, speed.PromptTokens);
        Assert.True(speed.TokensPerSecond > 0 && double.IsFinite(speed.TokensPerSecond));
        Assert.True(speed.Batch8TokensPerSecond > 0 && double.IsFinite(speed.Batch8TokensPerSecond));
        Assert.InRange(speed.TimeToFirstTokenSeconds, 1e-6, 10);
    }

    [Fact]
    public void NeedsAPromptToken()
    {
        using var model = Gpt.Create(new GptConfig { VocabSize = 50, BlockSize = 16, NLayer = 1, NHead = 2, NEmbd = 16 }, seed: 3);
        Assert.Throws<GptSharpException>(() => DecodeSpeed.Measure(model, [], 4, 4, 1));
    }
}
