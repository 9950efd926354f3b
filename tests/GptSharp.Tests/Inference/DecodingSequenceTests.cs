using GptSharp.Inference;
using static TorchSharp.torch;

namespace GptSharp.Tests.Inference;

/// <summary>Greedy choice reads the argmax in place; a logits processor that bans it, or changes values, sends it through libtorch.</summary>
public class DecodingSequenceTests
{
    static readonly HashSet<int> End = [9];

    static int Choose(float[] values, GenerationOptions o, int[] tokens, int newTokens = 0)
    {
        using var logits = tensor(values);
        var row = new DecodingSequence(tokens[..^newTokens], null);
        foreach (int t in tokens[^newTokens..]) { row.Tokens.Add(t); row.NewIds.Add(t); }
        using var rng = new TorchSharp.torch.Generator(1);
        return row.Choose(logits, o, End, null, rng);
    }

    [Fact]
    public void BansOfTheBestTokenAreHonouredAndOthersLeaveItBest()
    {
        //                   0    1    2    3    4    5    6    7    8    9 (end)
        float[] endBest = [0.1f, 0.2f, 0.3f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 5.0f];
        float[] twoBest = [0.1f, 0.2f, 5.0f, 1.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 4.0f];
        var greedy = new GenerationOptions { DoSample = false };
        Assert.Equal(9, Choose(endBest, greedy, [1, 1]));
        // min_new_tokens bans the end token until enough are new: the next best then.
        Assert.Equal(2, Choose(endBest, greedy with { MinNewTokens = 3 }, [1, 1], newTokens: 1));
        Assert.Equal(9, Choose(endBest, greedy with { MinNewTokens = 1 }, [1, 1], newTokens: 1));
        // It bans the end token only: a best that is not one stays.
        Assert.Equal(2, Choose(twoBest, greedy with { MinNewTokens = 3 }, [1, 1], newTokens: 1));
        // No-repeat bigrams: after "2 3 … 2", 3 is banned; 2 itself is not.
        Assert.Equal(9, Choose([0f, 0f, 0f, 6f, 0f, 0f, 0f, 0f, 0f, 5f], greedy with { NoRepeatNgramSize = 2 }, [2, 3, 4, 2]));
        Assert.Equal(2, Choose(twoBest, greedy with { NoRepeatNgramSize = 2 }, [2, 3, 4, 2]));
        // Value changes go through libtorch: a repetition penalty on 2 (seen) lets 9 win.
        Assert.Equal(9, Choose(twoBest, greedy with { RepetitionPenalty = 2.0 }, [2]));
        Assert.Equal(9, Choose(twoBest, greedy with { LogitBias = new Dictionary<int, double> { [2] = -2 } }, [1]));
    }
}
