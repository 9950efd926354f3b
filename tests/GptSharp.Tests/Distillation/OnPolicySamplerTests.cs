using GptSharp.Data;
using GptSharp.Distillation;
using GptSharp.Models;
using GptSharp.Tests.Training;
using static TorchSharp.torch;

namespace GptSharp.Tests.Distillation;

[Collection(nameof(GlobalTorchRng))]
public class OnPolicySamplerTests
{
    [Fact]
    public void AFractionLmbdaOfMicroBatchesIsOnPolicyDecidedByTheSeedAlone()
    {
        int Count(double lmbda, long seed) => Enumerable.Range(1, 2000).Count(step => OnPolicySampler.IsOnPolicy(lmbda, seed, step, 0));
        Assert.Equal(0, Count(0, 1));
        Assert.Equal(2000, Count(1, 1));
        Assert.InRange(Count(0.3, 1), 520, 680);
        Assert.Equal(Count(0.3, 1), Count(0.3, 1));
        Assert.NotEqual(
            Enumerable.Range(1, 50).Select(s => OnPolicySampler.IsOnPolicy(0.5, 1, s, 0)),
            Enumerable.Range(1, 50).Select(s => OnPolicySampler.IsOnPolicy(0.5, 2, s, 0)));
    }

    [Fact]
    public void RepliesKeepThePromptAndCountOnlyTheSampledTokensTheSameEachTime()
    {
        using var student = Gpt.Create(new GptConfig { VocabSize = 20, BlockSize = 16, NLayer = 1, NHead = 2, NEmbd = 16, Dropout = 0.1 }, 1);
        student.train();
        // Row 0: a prompt of 3 tokens, then the reply counts; row 1: text, every token counts.
        using var input = tensor(new long[] { 5, 6, 7, 8, 9, 10, 1, 2, 3, 4, 5, 6 }, [2, 6]);
        using var targets = tensor(new long[] { -100, -100, 8, 9, 10, -100, 2, 3, 4, 5, 6, 7 }, [2, 6]);
        var batch = new Batch(input, targets);
        var sampler = new OnPolicySampler(blockSize: 8, maxNewTokens: 4, temperature: 1.0, seed: 3, stopIds: [], padId: 0);

        var a = sampler.Sample(student, batch, step: 7, micro: 0);
        var b = sampler.Sample(student, batch, step: 7, micro: 0);
        Assert.True(student.training);
        Assert.Equal(a.Input.data<long>().ToArray(), b.Input.data<long>().ToArray());
        Assert.Equal(a.Targets.data<long>().ToArray(), b.Targets.data<long>().ToArray());

        long[] x = a.Input.data<long>().ToArray(), y = a.Targets.data<long>().ToArray();
        int t = (int)a.Input.shape[1];
        // Row 0 keeps its prompt (5, 6, 7) and 4 sampled tokens follow; the first counted target is the first reply token.
        Assert.Equal([5, 6, 7], x[..3]);
        Assert.Equal([-100, -100], y[..2]);
        Assert.All(y[2..6], v => Assert.InRange(v, 0, 19));
        Assert.Equal(x[3..6], y[2..5]); // targets are the next inputs
        // Row 1 (text) keeps its first half (3 of 7 tokens) as prompt.
        Assert.Equal([1, 2, 3], x[t..(t + 3)]);
        Assert.Equal([-100, -100], y[t..(t + 2)]);
        Assert.NotEqual(-100, y[t + 2]);
    }
}
