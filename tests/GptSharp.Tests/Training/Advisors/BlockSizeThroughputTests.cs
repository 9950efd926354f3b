using GptSharp.Models;
using GptSharp.Training.Advisors;
using static TorchSharp.torch;

namespace GptSharp.Tests.Training.Advisors;

public class BlockSizeThroughputTests
{
    [Fact]
    public void TimesEachBlockSizeWithTheSameTokensPerStepAndLeavesTheModelAsItWas()
    {
        using var model = Gpt.Create(new GptConfig { VocabSize = 50, BlockSize = 64, NLayer = 1, NHead = 2, NEmbd = 16 });
        model.eval();
        var before = model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.clone());

        var speeds = BlockSizeThroughput.Measure(model, [16, 64], tokensPerStep: 128, steps: 2);

        Assert.Equal([(16, 8), (64, 2)], speeds.Select(s => (s.BlockSize, s.BatchSize)));
        Assert.All(speeds, s => Assert.True(s.TokensPerSecond > 0 && s.SecondsPerStep > 0));
        Assert.All(speeds, s => Assert.Equal(s.BatchSize * s.BlockSize / s.SecondsPerStep, s.TokensPerSecond, 6));
        Assert.False(model.training);
        foreach (var (name, value) in model.state_dict())
            Assert.True(before[name].eq(value).all().item<bool>(), name);
        Assert.All(model.parameters(), p => Assert.True(p.grad is null || p.grad.count_nonzero().item<long>() == 0));
        foreach (var t in before.Values) t.Dispose();
    }

    [Fact]
    public void ABlockLongerThanTheContextIsAnError()
    {
        using var model = Gpt.Create(new GptConfig { VocabSize = 50, BlockSize = 32, NLayer = 1, NHead = 2, NEmbd = 16 });
        Assert.Contains("block size 64 is outside the model's context",
            Assert.Throws<GptSharpException>(() => BlockSizeThroughput.Measure(model, [64])).Message);
    }
}
